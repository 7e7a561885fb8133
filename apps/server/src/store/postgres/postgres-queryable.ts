import { CompiledQuery, type Kysely, type QueryResult, sql } from "kysely";
import type { LockMode, Queryable, SchemaKysely } from "../queryable.js";
import type { DatabaseSchema } from "../schema.js";

/** Runs SQL compiled for PostgreSQL on `kysely`: the pool, or one transaction's connection. */
export function runOn<Row>(kysely: Kysely<DatabaseSchema>, text: string, parameters: readonly unknown[]): Promise<QueryResult<Row>> {
  return kysely.executeQuery<Row>(CompiledQuery.raw(text, [...parameters]));
}

/**
 * Takes the transaction-scoped advisory lock of `key` (hashed to the 64-bit lock space; two keys
 * sharing a hash only serialize more than needed). Released at COMMIT or ROLLBACK.
 */
export async function advisoryXactLock(kysely: Kysely<any>, key: string, mode: LockMode = "exclusive"): Promise<void> {
  if (mode === "shared") await sql`select pg_advisory_xact_lock_shared(hashtextextended(${key}, 0))`.execute(kysely);
  else await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(kysely);
}

/** The handle `work` receives inside a transaction: everything runs on that transaction's connection. */
export function transactionQueryable(trx: SchemaKysely): Queryable {
  return {
    engine: "postgres",
    kysely: trx,
    run: (text, parameters) => runOn(trx, text, parameters),
    lock: (key, mode) => advisoryXactLock(trx, key, mode),
  };
}
