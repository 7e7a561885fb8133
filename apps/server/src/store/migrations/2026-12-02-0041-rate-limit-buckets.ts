import { type Kysely, sql } from "kysely";
import { isPostgres } from "./engine-of.js";

// Frozen. The database rate limiter's token buckets (RATE_LIMIT_STORE=database): one row per
// limit and key, updated by one atomic upsert per call, so every process and host on the database
// shares the limit. `full_at` is when the bucket is full again: a row past it is worth no more than
// no row, and the purge deletes it (by the index). `refused` tells the caller what the upsert
// decided (RETURNING sees only the new row). The text key is bytewise on PostgreSQL, as every
// text column is (migration 0030).
//
// On PostgreSQL the table is UNLOGGED: every limited call of a key updates its one row, and a
// logged update holds the row until its commit is flushed to disk, so a busy key's calls would
// queue one WAL flush apiece. A bucket is worth nothing after a crash (PostgreSQL empties an
// unlogged table then: every bucket starts full, as after a restart of the memory limiter), and
// it is not replicated (only the primary answers it).

export async function up(db: Kysely<any>): Promise<void> {
  const create = db.schema.createTable("rate_limit_buckets");
  await (isPostgres(db) ? create.modifyFront(sql`unlogged`) : create)
    .addColumn("bucket", isPostgres(db) ? sql`text collate "C"` : "text", (c) => c.primaryKey())
    .addColumn("tokens", "double precision", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("full_at", "bigint", (c) => c.notNull())
    .addColumn("refused", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("rate_limit_buckets_full_at").on("rate_limit_buckets").column("full_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("rate_limit_buckets").execute();
}
