import type { Kysely } from "kysely";

// Frozen. What a merchant mutation sent with an Idempotency-Key answered, for 24 hours: a retry with
// the same key replays it instead of doing the work again. One row per key of an organization and
// environment; the key itself is never stored, only its SHA-256, and the answer is sealed under a
// key derived from the Idempotency-Key (a created token's plaintext is in it).

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("idempotency_keys")
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("key_hash", "text", (c) => c.notNull())
    .addColumn("request_hash", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("answer", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pkey", ["organization_id", "environment", "key_hash"])
    .execute();
  await db.schema.createIndex("idempotency_keys_created_at").on("idempotency_keys").column("created_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("idempotency_keys").execute();
}
