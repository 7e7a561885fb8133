import { CompiledQuery, type Kysely, type QueryResult, sql } from "kysely";
import pg from "pg";
import type { LockMode, Queryable, SchemaKysely } from "../queryable.js";
import type { DatabaseSchema } from "../schema.js";
import type { NamedStatements } from "./named-statements.js";

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
export function transactionQueryable(trx: SchemaKysely, statements: NamedStatements): Queryable {
  return {
    engine: "postgres",
    kysely: trx,
    run: (text, parameters) => runHot(trx, statements, text, parameters),
    lock: async (key, mode = "exclusive") => {
      await sql.raw(advisoryLockSql(key, mode)).execute(trx);
    },
  };
}
