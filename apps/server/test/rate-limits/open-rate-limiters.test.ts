import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DatabaseRateLimiter } from "../../src/rate-limits/database-rate-limiter.js";
import { MemoryRateLimiter } from "../../src/rate-limits/memory-rate-limiter.js";
import { openRateLimiters, type RateLimitSettings } from "../../src/rate-limits/open-rate-limiters.js";
import { RedisRateLimiter } from "../../src/rate-limits/redis-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import { describeWithRedis, startRedisServer, type TestRedisServer } from "../support/redis-server.js";
import { openTestStore } from "../support/test-store.js";

// What the server builds from its configuration (main.ts): the engine RATE_LIMIT_STORE names for
// every limit that is on, none for a limit at 0.

const settings = (overrides: Partial<RateLimitSettings>): RateLimitSettings => ({
  rateLimitStore: "memory",
  rateLimitUrl: undefined,
  rateLimitOnUnavailable: "open",
  rateLimitTimeoutMs: 250,
  createRateLimitPerMinute: 600,
  writeRateLimitPerMinute: 3_000,
  importRateLimitRowsPerMinute: 0,
  ...overrides,
});

let store: Store;
const clock = new ManualClock(START_TIME);
const logger = createLogger("silent");
beforeEach(async () => {
  store = await openTestStore();
});
afterEach(async () => store.close());

describe("openRateLimiters", () => {
  it.each([
    ["memory", MemoryRateLimiter],
    ["database", DatabaseRateLimiter],
  ] as const)("%s: that engine for each limit on, none for a limit at 0", async (engine, kind) => {
    const limiters = await openRateLimiters(settings({ rateLimitStore: engine }), { store, clock, logger });
    expect(limiters.createRateLimiter).toBeInstanceOf(kind);
    expect(limiters.createRateLimiter?.perMinute).toBe(600);
    expect(limiters.writeRateLimiter).toBeInstanceOf(kind);
    expect(limiters.importRateLimiter).toBeUndefined();
    await limiters.close();
  });
});

describeWithRedis()("openRateLimiters on Redis", () => {
  let redis: TestRedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => redis.stop());

  it("connects before the server listens, limits in Redis, and lets go of the connection on close", async () => {
    const limiters = await openRateLimiters(settings({ rateLimitStore: "redis", rateLimitUrl: redis.url }), {
      store,
      clock,
      logger,
    });
    expect(limiters.createRateLimiter).toBeInstanceOf(RedisRateLimiter);
    const inspect = redis.inspect();
    const clients = async () => Number(/connected_clients:(\d+)/.exec(await inspect.info("clients"))?.[1]);
    const clientsBefore = await clients();
    expect(clientsBefore, "the limiter's connection and this one").toBeGreaterThanOrEqual(2);
    expect(await limiters.createRateLimiter!.take("key_a")).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(await inspect.exists("billingos:rate-limit:create:key_a")).toBe(1);
    await limiters.close();
    // Redis counts a client until it has seen the connection close, a moment after QUIT's answer.
    const deadline = Date.now() + 2_000;
    while ((await clients()) !== clientsBefore - 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await clients()).toBe(clientsBefore - 1);
  });
});
