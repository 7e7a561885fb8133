import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/store.js";
import { deleteIdempotencyRecordsBefore } from "./idempotency.repository.js";
import { IDEMPOTENCY_WINDOW_MS } from "./idempotency-key.js";

/** Records deleted per write transaction: a large purge never holds the write lock for long. */
export const IDEMPOTENCY_PURGE_BATCH = 1_000;

/**
 * Deletes the records of keys past their 24 hours (they replay nothing any more), a batch per write
 * transaction; returns how many. Part of the hourly retention pass (session-tokens.retention.ts).
 */
export async function purgeIdempotencyRecords(store: Store, clock: Clock): Promise<number> {
  const cutoff = clock.now() - IDEMPOTENCY_WINDOW_MS;
  let purged = 0;
  for (;;) {
    const deleted = await store.transaction((trx) =>
      deleteIdempotencyRecordsBefore(trx, cutoff, IDEMPOTENCY_PURGE_BATCH),
    );
    purged += deleted;
    if (deleted < IDEMPOTENCY_PURGE_BATCH) return purged;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
