import { CompiledQuery, type Kysely, type QueryResult, sql } from "kysely";
import pg from "pg";
import type { LockMode, Queryable, SchemaKysely } from "../queryable.js";
import type { DatabaseSchema } from "../schema.js";
import type { NamedStatements } from "./named-statements.js";
import { CACHE_CHANNEL } from "./notified-cache.js";

/** What a unit learns while it runs that matters once it commits. */
export interface UnitOutcome {
  /** It changed rows other hosts may hold in their key cache. */
  invalidatesCache: boolean;
}

/** Tells every host's listener (at commit, when run inside a transaction) that cached rows changed. */
export async function notifyCacheChange(kysely: SchemaKysely): Promise<void> {
  await sql`select pg_notify(${CACHE_CHANNEL}, '')`.execute(kysely);
}

/**
 * Runs one of the hot statements (SQL compiled once for PostgreSQL) on `kysely`: the pool, or one
 * transaction's connection. Registered first, so the connection runs it as a named statement.
 */
export function runHot<Row>(
  kysely: Kysely<DatabaseSchema>,
  statements: NamedStatements,
  text: string,
  parameters: readonly unknown[],
): Promise<QueryResult<Row>> {
  statements.register(text);
  return kysely.executeQuery<Row>(CompiledQuery.raw(text, [...parameters]));
}

/**
 * The SQL that takes the transaction-scoped advisory lock of `key`, hashed to the 64-bit lock
 * space (two keys sharing a hash only serialize more than needed); released at COMMIT or ROLLBACK.
 * The key is a literal, so the statement can travel with BEGIN in one simple query.
 */
export function advisoryLockSql(key: string, mode: LockMode): string {
  const lock = mode === "shared" ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock";
  return `select ${lock}(hashtextextended(${pg.escapeLiteral(key)}, 0))`;
}

/** The handle `work` receives inside a transaction: everything runs on that transaction's connection. */
export function transactionQueryable(trx: SchemaKysely, statements: NamedStatements, outcome: UnitOutcome): Queryable {
  return {
    engine: "postgres",
    kysely: trx,
    run: (text, parameters) => runHot(trx, statements, text, parameters),
    lock: async (key, mode = "exclusive") => {
      await sql.raw(advisoryLockSql(key, mode)).execute(trx);
    },
    forShare: (query) => query.forShare(),
    invalidateCachedReads: async () => {
      await notifyCacheChange(trx);
      outcome.invalidatesCache = true;
    },
  };
}
