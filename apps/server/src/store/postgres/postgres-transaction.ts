import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import type pg from "pg";
import type { Queryable, SchemaKysely } from "../queryable.js";
import { Rollback } from "../rollback.js";
import type { TransactionOptions } from "../store.js";
import type { NamedStatements } from "./named-statements.js";
import type { NotifiedCache } from "./notified-cache.js";
import { advisoryLockSql, transactionQueryable, type UnitOutcome } from "./postgres-queryable.js";
import { busyError, isRetryableConflict } from "./transient-errors.js";

/** Runs of one unit in all before a conflict becomes a 503. */
export const MAX_ATTEMPTS = 6;
/** The first retry waits up to this; each next one up to twice as long (full jitter). */
const BASE_BACKOFF_MS = 4;

const BEGIN = "start transaction isolation level read committed";

/** PostgreSQL ends COMMIT with this tag when an earlier failed statement had aborted the transaction. */
export class AbortedTransactionError extends Error {
  override readonly name = "AbortedTransactionError";
}

/**
 * Full jitter: two transactions that just conflicted wait different times, so they do not meet
 * again at once. Waits grow 4, 8, 16, 32, 64 ms at most: under 130 ms in all before a 503.
 */
function backoffMs(attempt: number): number {
  return Math.random() * BASE_BACKOFF_MS * 2 ** (attempt - 1);
}

/**
 * BEGIN, and the unit's opening lock in the same simple query (one round trip: separate
 * statements, so the lock is held before the next statement takes its snapshot).
 */
function beginSql(options: TransactionOptions | undefined): string {
  return options?.lock === undefined ? BEGIN : `${BEGIN}; ${advisoryLockSql(options.lock.key, options.lock.mode)}`;
}

/** What the store and its transactions run with besides Kysely: the pool, its named statements, this host's key cache. */
export interface TransactionContext {
  pool: pg.Pool;
  statements: NamedStatements;
  cache: NotifiedCache | undefined;
}

/** One attempt on one pinned connection: BEGIN (with the lock), the work, COMMIT; ROLLBACK if anything throws. */
function attempt<T>(
  kysely: SchemaKysely,
  context: TransactionContext,
  work: (trx: Queryable) => Promise<T>,
  options: TransactionOptions | undefined,
): Promise<T> {
  return kysely.connection().execute(async (connection) => {
    await sql.raw(beginSql(options)).execute(connection);
    try {
      const outcome: UnitOutcome = { invalidatesCache: false };
      const result = await work(transactionQueryable(connection, context.statements, outcome));
      const { rows } = await sql.raw<{ command?: string }>("commit").execute(connection);
      if (rows[0]?.command === "ROLLBACK")
        throw new AbortedTransactionError("The transaction was aborted by an earlier failed statement and rolled back");
      // The other hosts hear of it from PostgreSQL; this one forgets before its caller hears back.
      if (outcome.invalidatesCache) context.cache?.invalidate();
      return result;
    } catch (error) {
      // A connection lost mid-unit fails this too; pg's pool drops such a connection on release.
      await sql
        .raw("rollback")
        .execute(connection)
        .catch(() => {});
      throw error;
    }
  });
}

/**
 * One unit of work in one READ COMMITTED transaction on one connection. A thrown Rollback undoes
 * it and returns its result; a serialization failure (40001) or deadlock (40P01) runs the whole
 * unit again (it has no effect outside the transaction: the Store contract), up to MAX_ATTEMPTS,
 * then a 503. Anything else is rolled back and thrown as is.
 */
export function runTransaction<T>(
  kysely: SchemaKysely,
  context: TransactionContext,
  work: (trx: Queryable) => Promise<T>,
  options?: TransactionOptions,
): Promise<T> {
  return retryingConflicts(async () => {
    try {
      return await attempt(kysely, context, work, options);
    } catch (error) {
      if (error instanceof Rollback) return error.result as T;
      throw error;
    }
  });
}

/**
 * Runs `once` again after a serialization failure or deadlock (PostgreSQL undid all it did), with
 * backoff, up to MAX_ATTEMPTS in all, then a 503; any other failure is thrown as is.
 */
export async function retryingConflicts<T>(once: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await once();
    } catch (error) {
      if (!isRetryableConflict(error)) throw error;
      if (tries >= MAX_ATTEMPTS) throw busyError();
      await sleep(backoffMs(tries));
    }
  }
}
