import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { DatabaseRateLimiter } from "../../src/rate-limits/database-rate-limiter.js";
import { MemoryRateLimiter } from "../../src/rate-limits/memory-rate-limiter.js";
import type { RateLimiter } from "../../src/rate-limits/rate-limiter.js";
import { RedisConnection, RedisRateLimiter } from "../../src/rate-limits/redis-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { countSessionTokens, START_TIME } from "../harness.js";
import { send } from "../security/http-client.js";
import { describeWithRedis, startRedisServer, type TestRedisServer } from "../support/redis-server.js";
import { openSharedTestStores, type SharedTestStores } from "../support/test-store.js";

// SPEC §8 and issue 12 §1: with a shared limiter, two servers on one database are one service: 2 ×
// limit creations with one key, split over both and sent at once, get exactly `limit` accepted.
// Each server has its own store (connections) and its own limiter object, as two hosts have.

const LIMIT = 20;

let shared: SharedTestStores;
let servers: RunningHttpServer[] = [];
let key: CreatedApiKey;
const clock = new ManualClock(START_TIME);

/** Two servers, each on its own store of one database, each with the limiter `limiterFor` gives for its store. */
async function startServers(
  limiterFor: (store: Store, server: number) => RateLimiter | Promise<RateLimiter>,
): Promise<void> {
  shared = await openSharedTestStores(2);
  const limiters = await Promise.all(shared.stores.map(limiterFor));
  key = await createApiKey(shared.stores[0]!, clock, { organizationName: "Acme", environment: "test" });
  servers = await Promise.all(
    shared.stores.map((store, i) =>
      startHttpServer({
        deps: { store, clock, logger: createLogger("silent"), createRateLimiter: limiters[i] },
        port: 0,
        host: "127.0.0.1",
      }),
    ),
  );
}

afterEach(async () => {
  for (const server of servers) await server.close(1_000);
  servers = [];
  await shared.close();
});

/** 2 × LIMIT creations at once, every other one on the other server; the statuses, counted. */
async function createTwiceTheLimit(): Promise<Record<number, number>> {
  const answers = await Promise.all(
    Array.from({ length: 2 * LIMIT }, (_, i) =>
      send(servers[i % 2]!.port, {
        method: "POST",
        path: "/trpc/sessionTokens.create",
        headers: { authorization: `Bearer ${key.secretKey}`, "content-type": "application/json" },
        body: JSON.stringify({ externalUserId: `user_${i}` }),
      }),
    ),
  );
  const statuses: Record<number, number> = {};
  for (const answer of answers) statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
  return statuses;
}

describe("two servers on one database", () => {
  it("with the database limiter, accept exactly the limit between them", async () => {
    await startServers((store) => new DatabaseRateLimiter("create", LIMIT, store, clock));
    expect(await createTwiceTheLimit()).toEqual({ 200: LIMIT, 429: LIMIT });
    expect(await countSessionTokens(shared.stores[1]!)).toBe(LIMIT);
  });

  it("with the memory limiter (per process), accept the limit each: why several hosts need a shared one", async () => {
    await startServers(() => new MemoryRateLimiter(LIMIT, clock));
    expect(await createTwiceTheLimit()).toEqual({ 200: 2 * LIMIT });
  });
});

describeWithRedis()("two servers on one database and one Redis", () => {
  let redis: TestRedisServer;
  const connections: RedisConnection[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const connection of connections) await connection.close();
    await redis.stop();
  });

  it("with the Redis limiter, accept exactly the limit between them", async () => {
    await startServers(async () => {
      // A connection per server, as each host has its own.
      const connection = new RedisConnection({ url: redis.url, timeoutMs: 1_000, logger: createLogger("silent") });
      connections.push(connection);
      await connection.connect();
      return new RedisRateLimiter("create", LIMIT, connection, clock, "closed");
    });
    expect(await createTwiceTheLimit()).toEqual({ 200: LIMIT, 429: LIMIT });
    expect(await countSessionTokens(shared.stores[1]!)).toBe(LIMIT);
  });
});
