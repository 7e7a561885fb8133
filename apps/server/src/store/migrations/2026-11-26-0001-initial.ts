import type { Kysely } from "kysely";

// Frozen: a migration that has shipped is never edited; change the schema with a new file.
// Portable types only (text, bigint), since PostgreSQL will run these too.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("organizations")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("key_hash", "text", (c) => c.notNull().unique())
    .addColumn("key_hint", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    .execute();
  await db.schema.createIndex("api_keys_organization").on("api_keys").column("organization_id").execute();

  await db.schema
    .createTable("session_tokens")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("api_key_id", "text", (c) => c.notNull().references("api_keys.id"))
    .addColumn("external_user_id", "text", (c) => c.notNull())
    .addColumn("external_organization_id", "text")
    .addColumn("email", "text")
    .addColumn("allowed_operations", "text")
    .addColumn("metadata", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("revoked_at", "bigint")
    .addColumn("revocation_reason", "text")
    .execute();
  await db.schema
    .createIndex("session_tokens_customer")
    .on("session_tokens")
    .columns(["organization_id", "environment", "external_user_id", "id"])
    .execute();
  await db.schema
    .createIndex("session_tokens_customer_organization")
    .on("session_tokens")
    .columns(["organization_id", "environment", "external_organization_id"])
    .execute();
  await db.schema.createIndex("session_tokens_api_key").on("session_tokens").column("api_key_id").execute();
  await db.schema.createIndex("session_tokens_expiry").on("session_tokens").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("session_tokens").execute();
  await db.schema.dropTable("api_keys").execute();
  await db.schema.dropTable("organizations").execute();
}
