import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DatabaseRateLimiter } from "../../src/rate-limits/database-rate-limiter.js";
import { MemoryRateLimiter } from "../../src/rate-limits/memory-rate-limiter.js";
import type { RateLimiter } from "../../src/rate-limits/rate-limiter.js";
import { RedisConnection, RedisRateLimiter } from "../../src/rate-limits/redis-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import { describeWithRedis, startRedisServer, type TestRedisServer } from "../support/redis-server.js";
import { openTestStore } from "../support/test-store.js";

// The three engines do the same arithmetic (token-bucket.ts; SQL; Lua): one script of calls, the
// same answers from each, to the second of Retry-After.

type Open = (name: string, perMinute: number, clock: ManualClock) => RateLimiter;

function behavesAsTheTokenBucket(open: () => Promise<Open>) {
  it("takes a call's cost, and lets a call costing more than the bucket through only when it is full, in debt", async () => {
    const clock = new ManualClock(START_TIME);
    const limiter = (await open())("import", 600, clock);
    expect(await limiter.take("k", 400)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    // Refused: 200 left, 300 asked; 100 more take 10 s at 600 a minute. A check takes nothing.
    expect(await limiter.check("k", 300)).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect(await limiter.take("k", 300)).toEqual({ allowed: false, retryAfterSeconds: 10 });
    expect((await limiter.take("k", 200)).allowed).toBe(true);
    // More than a whole bucket: waits for a full bucket (60 s), then goes through, leaving it in debt.
    expect(await limiter.take("k", 1_000)).toEqual({ allowed: false, retryAfterSeconds: 60 });
    clock.advance(60_000);
    expect((await limiter.check("k", 1_000)).allowed).toBe(true);
    expect((await limiter.take("k", 1_000)).allowed).toBe(true);
    // Refused: 400 in debt, so one unit waits 401 units' refill (40.1 s).
    expect(await limiter.take("k", 1)).toEqual({ allowed: false, retryAfterSeconds: 41 });
  });

  it("refills one call every 60/limit seconds, and Retry-After counts down to it", async () => {
    const clock = new ManualClock(START_TIME);
    const limiter = (await open())("create", 5, clock);
    for (let i = 0; i < 5; i++) expect((await limiter.take("k")).allowed, `call ${i + 1} of the burst`).toBe(true);
    expect(await limiter.take("k")).toEqual({ allowed: false, retryAfterSeconds: 12 });
    clock.advance(11_000);
    expect(await limiter.take("k")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(1_000);
    expect((await limiter.take("k")).allowed).toBe(true);
    // The wait bought one call, not a new burst.
    expect(await limiter.take("k")).toEqual({ allowed: false, retryAfterSeconds: 12 });
  });

  it("keeps a bucket per key and per limit: an empty one limits nothing else", async () => {
    const clock = new ManualClock(START_TIME);
    const limiters = await open();
    const create = limiters("create", 2, clock);
    const write = limiters("write", 2, clock);
    await create.take("key_a");
    await create.take("key_a");
    expect((await create.take("key_a")).allowed).toBe(false);
    expect((await create.take("key_b")).allowed).toBe(true);
    expect((await write.take("key_a")).allowed).toBe(true);
  });
}

describe("the memory engine", () => {
  behavesAsTheTokenBucket(async () => (_name, perMinute, clock) => new MemoryRateLimiter(perMinute, clock));
});

describe("the database engine", () => {
  let store: Store;
  // Each test gets a fresh database; the limiters of one test share it.
  beforeEach(async () => {
    store = await openTestStore();
  });
  afterEach(async () => store.close());
  behavesAsTheTokenBucket(
    async () => (name, perMinute, clock) => new DatabaseRateLimiter(name, perMinute, store, clock),
  );
});

describeWithRedis()("the Redis engine", () => {
  let redis: TestRedisServer;
  const connections: RedisConnection[] = [];
  let test = 0;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const connection of connections) await connection.close();
    await redis.stop();
  });
  behavesAsTheTokenBucket(async () => {
    const connection = new RedisConnection({ url: redis.url, timeoutMs: 1_000, logger: createLogger("silent") });
    connections.push(connection);
    // A key space per test: the buckets of one test are not another's.
    const run = ++test;
    await connection.connect();
    return (name, perMinute, clock) => new RedisRateLimiter(`${name}-${run}`, perMinute, connection, clock, "closed");
  });
});
