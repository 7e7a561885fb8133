import { type ColumnDefinitionBuilder, type Kysely, sql } from "kysely";
import { isPostgres } from "./engine-of.js";

// Frozen. What a merchant mutation sent with an Idempotency-Key answered, for 24 hours: a retry with
// the same key replays it instead of doing the work again. One row per key of an organization and
// environment; the key itself is never stored, only its SHA-256, and the answer is sealed under a
// key derived from the Idempotency-Key (a created token's plaintext is in it). Text columns are
// bytewise (COLLATE "C") on PostgreSQL, as every other one is (2026-12-02-0030).

export async function up(db: Kysely<any>): Promise<void> {
  const bytewise = (c: ColumnDefinitionBuilder) => (isPostgres(db) ? c.modifyFront(sql`collate "C"`) : c);
  await db.schema
    .createTable("idempotency_keys")
    .addColumn("organization_id", "text", (c) => bytewise(c).notNull().references("organizations.id"))
    .addColumn("environment", "text", (c) => bytewise(c).notNull())
    .addColumn("key_hash", "text", (c) => bytewise(c).notNull())
    .addColumn("request_hash", "text", (c) => bytewise(c).notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("answer", "text", (c) => bytewise(c).notNull())
    .addPrimaryKeyConstraint("idempotency_keys_pkey", ["organization_id", "environment", "key_hash"])
    .execute();
  await db.schema.createIndex("idempotency_keys_created_at").on("idempotency_keys").column("created_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("idempotency_keys").execute();
}
