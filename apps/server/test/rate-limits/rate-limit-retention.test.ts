import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatabaseRateLimiter } from "../../src/rate-limits/database-rate-limiter.js";
import { BUCKET_PURGE_BATCH, purgeFullRateLimitBuckets } from "../../src/rate-limits/rate-limit-retention.js";
import { schedulePurge } from "../../src/session-tokens/session-tokens.retention.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import { openTestStore } from "../support/test-store.js";

// The database limiter's table does not grow for ever: a bucket full again is worth no more than
// no row, and the retention purge deletes it, in bounded batches.

let store: Store;
let clock: ManualClock;
beforeEach(async () => {
  store = await openTestStore();
  clock = new ManualClock(START_TIME);
});
afterEach(async () => store.close());

const buckets = async () =>
  (await store.kysely.selectFrom("rate_limit_buckets").select("bucket").orderBy("bucket").execute()).map(
    (row) => row.bucket,
  );

describe("purging the database limiter's buckets", () => {
  it("deletes a bucket once it is full again, not before, debt included", async () => {
    // 60 a minute: one unit a second.
    const limiter = new DatabaseRateLimiter("import", 60, store, clock);
    await limiter.take("key_a", 1); // full again after 1 s
    await limiter.take("key_b", 30); // after 30 s
    await limiter.take("key_c", 100); // 40 in debt: after 100 s
    expect(await purgeFullRateLimitBuckets(store, clock)).toBe(0);
    clock.advance(999);
    expect(await purgeFullRateLimitBuckets(store, clock)).toBe(0);
    clock.advance(2);
    expect(await purgeFullRateLimitBuckets(store, clock)).toBe(1);
    expect(await buckets()).toEqual(["import:key_b", "import:key_c"]);
    clock.advance(30_000);
    expect(await purgeFullRateLimitBuckets(store, clock)).toBe(1);
    // Not purged while in debt: 40 in debt at 0 s, 9 at 31 s, so one unit waits 10 s.
    expect(await limiter.take("key_c", 1)).toEqual({ allowed: false, retryAfterSeconds: 10 });
    clock.advance(70_000);
    expect(await purgeFullRateLimitBuckets(store, clock)).toBe(1);
    expect(await buckets()).toEqual([]);
    // A purged bucket is a full one: the whole burst again.
    expect(await limiter.take("key_a", 60)).toEqual({ allowed: true, retryAfterSeconds: 0 });
  });

  it("deletes in batches of BUCKET_PURGE_BATCH until none is left", async () => {
    const count = 2 * BUCKET_PURGE_BATCH + 500;
    const rows = Array.from({ length: count }, (_, i) => ({
      bucket: `create:key_${String(i).padStart(5, "0")}`,
      tokens: 59,
      updated_at: START_TIME,
      full_at: START_TIME + 1_001,
      refused: 0,
    }));
    for (let i = 0; i < rows.length; i += 500)
      await store.kysely
        .insertInto("rate_limit_buckets")
        .values(rows.slice(i, i + 500))
        .execute();
    clock.advance(2_000);
    expect(await purgeFullRateLimitBuckets(store, clock)).toBe(count);
    expect(await buckets()).toEqual([]);
  });

  it("runs with the hourly retention purge", async () => {
    await new DatabaseRateLimiter("create", 60, store, clock).take("key_a");
    clock.advance(1_001);
    const stop = schedulePurge(
      { store, clock, logger: createLogger("silent") },
      { tokenRetentionMs: 0, auditRetentionMs: 60_000 },
    );
    try {
      const deadline = Date.now() + 5_000;
      while ((await buckets()).length > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await buckets()).toEqual([]);
    } finally {
      stop();
    }
  });
});
