import { setTimeout as sleep } from "node:timers/promises";
import type { Queryable, SchemaKysely } from "../queryable.js";
import { Rollback } from "../rollback.js";
import { transactionQueryable } from "./postgres-queryable.js";
import { busyError, isRetryableConflict } from "./transient-errors.js";

/** Runs of one unit in all before a conflict becomes a 503. */
export const MAX_ATTEMPTS = 6;
/** The first retry waits up to this; each next one up to twice as long (full jitter). */
const BASE_BACKOFF_MS = 4;

/**
 * Full jitter: two transactions that just conflicted wait different times, so they do not meet
 * again at once. Waits grow 4, 8, 16, 32, 64 ms at most: under 130 ms in all before a 503.
 */
function backoffMs(attempt: number): number {
  return Math.random() * BASE_BACKOFF_MS * 2 ** (attempt - 1);
}

/**
 * One unit of work in one READ COMMITTED transaction on one connection. A thrown Rollback undoes
 * it and returns its result; a serialization failure (40001) or deadlock (40P01) runs the whole
 * unit again (it has no effect outside the transaction: the Store contract), up to MAX_ATTEMPTS,
 * then a 503. Anything else is rolled back and thrown as is.
 */
export async function runTransaction<T>(kysely: SchemaKysely, work: (trx: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await kysely
        .transaction()
        .setIsolationLevel("read committed")
        .execute((trx) => work(transactionQueryable(trx)));
    } catch (error) {
      if (error instanceof Rollback) return error.result as T;
      if (!isRetryableConflict(error)) throw error;
      if (attempt >= MAX_ATTEMPTS) throw busyError();
      await sleep(backoffMs(attempt));
    }
  }
}
