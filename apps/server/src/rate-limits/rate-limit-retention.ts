import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/store.js";
import { deleteFullBuckets } from "./rate-limit-buckets.repository.js";

/** Buckets deleted per write transaction: a large purge never holds the write lock for long. */
export const BUCKET_PURGE_BATCH = 1_000;

/**
 * Deletes the database limiter's buckets that are full again (idle long enough that no row means
 * the same), a batch per transaction; returns how many. The table holds at most a row per limit
 * and key used since the last purge.
 */
export async function purgeFullRateLimitBuckets(store: Store, clock: Clock): Promise<number> {
  const now = clock.now();
  let purged = 0;
  for (;;) {
    const deleted = await store.transaction((trx) => deleteFullBuckets(trx, now, BUCKET_PURGE_BATCH));
    purged += deleted;
    if (deleted < BUCKET_PURGE_BATCH) return purged;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
