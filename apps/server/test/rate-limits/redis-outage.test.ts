import { afterEach, beforeEach, expect, it } from "vitest";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { openRateLimiters, type RateLimiters } from "../../src/rate-limits/open-rate-limiters.js";
import type { OnUnavailable } from "../../src/rate-limits/redis-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { countSessionTokens, START_TIME } from "../harness.js";
import { type HttpAnswer, send } from "../security/http-client.js";
import { describeWithRedis, startRedisServer, type TestRedisServer } from "../support/redis-server.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { openTestStore } from "../support/test-store.js";

// Issue 12 §1: Redis going away while the server runs. Creation is never blocked past the
// limiter's timeout; RATE_LIMIT_ON_UNAVAILABLE says what happens meanwhile ("closed": 503 with
// Retry-After; "open": each host limits alone); nothing is counted twice; and the shared limit is
// back by itself once Redis answers. A real redis-server, killed and started again, or a relay
// in front of it that holds its answers and cuts the connection.

const LIMIT = 5;
const TIMEOUT_MS = 200;
/** Generous for a loaded machine: an answer within the limiter's timeout and the server's work. */
const NOT_BLOCKED_MS = 1_500;

let redis: TestRedisServer;
let proxy: TcpProxy;
let store: Store;
let limiters: RateLimiters;
let server: RunningHttpServer;
let key: CreatedApiKey;
const clock = new ManualClock(START_TIME);

let startedInMs = 0;

async function start(onUnavailable: OnUnavailable, options: { redisDownAtStart?: boolean } = {}): Promise<void> {
  redis = await startRedisServer();
  if (options.redisDownAtStart) await redis.kill();
  proxy = await startTcpProxy({ host: "127.0.0.1", port: redis.port });
  store = await openTestStore();
  key = await createApiKey(store, clock, { organizationName: "Acme", environment: "test" });
  const startedAt = performance.now();
  limiters = await openRateLimiters(
    {
      rateLimitStore: "redis",
      rateLimitUrl: `redis://127.0.0.1:${proxy.port}`,
      rateLimitOnUnavailable: onUnavailable,
      rateLimitTimeoutMs: TIMEOUT_MS,
      createRateLimitPerMinute: LIMIT,
      writeRateLimitPerMinute: 0,
      importRateLimitRowsPerMinute: 0,
    },
    { store, clock, logger: createLogger("silent") },
  );
  startedInMs = performance.now() - startedAt;
  server = await startHttpServer({
    deps: { store, clock, logger: createLogger("silent"), createRateLimiter: limiters.createRateLimiter },
    port: 0,
    host: "127.0.0.1",
  });
}

afterEach(async () => {
  await server.close(1_000);
  await limiters.close();
  await store.close();
  await proxy.close();
  await redis.stop();
});

let created = 0;
async function create(): Promise<HttpAnswer & { ms: number }> {
  const startedAt = performance.now();
  const answer = await send(server.port, {
    method: "POST",
    path: "/trpc/sessionTokens.create",
    headers: { authorization: `Bearer ${key.secretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ externalUserId: `user_${++created}` }),
  });
  return { ...answer, ms: performance.now() - startedAt };
}

/** Creates until one is decided by Redis again (a 200 or 429 whose bucket Redis holds), within `withinMs`. */
async function untilRedisAnswers(withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  const inspect = redis.inspect();
  for (;;) {
    const answer = await create();
    if (answer.status === 200 && (await inspect.exists(`billingos:rate-limit:create:${key.id}`)) === 1) return;
    if (Date.now() > deadline)
      throw new Error(`Redis did not answer again within ${withinMs} ms (last status ${answer.status})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Units the key's create bucket holds in Redis (the clock is stopped: no refill). */
async function tokensInRedis(): Promise<number> {
  return Number(await redis.inspect().hget(`billingos:rate-limit:create:${key.id}`, "t"));
}

describeWithRedis()("Redis unreachable at run time", () => {
  describeWithRedis()('RATE_LIMIT_ON_UNAVAILABLE="closed"', () => {
    beforeEach(() => start("closed"));

    it("answers 503 with Retry-After at once while Redis is down, stores nothing, and limits again once it is back", async () => {
      expect((await create()).status).toBe(200);
      await redis.kill();
      const tokensBefore = await countSessionTokens(store);
      for (let i = 0; i < 3; i++) {
        const refused = await create();
        expect(refused.status, refused.body).toBe(503);
        expect(refused.headers["retry-after"]).toBe("1");
        expect(JSON.parse(refused.body).error.data).toMatchObject({
          code: "SERVICE_UNAVAILABLE",
          retryAfterSeconds: 1,
        });
        expect(refused.ms, "a refusal while Redis is down waits at most the limiter's timeout").toBeLessThan(
          NOT_BLOCKED_MS,
        );
      }
      // Refused: nothing was created meanwhile.
      expect(await countSessionTokens(store)).toBe(tokensBefore);

      // Back, empty (nothing was saved): the client reconnects by itself and the shared bucket counts again.
      await redis.restart();
      await untilRedisAnswers();
      for (let i = 1; i < LIMIT; i++) expect((await create()).status).toBe(200);
      expect((await create()).status).toBe(429);
    });

    it("a call whose answer never comes is refused after the timeout, and counted once: never sent again on the next connection", async () => {
      expect((await create()).status).toBe(200);
      expect(await tokensInRedis()).toBe(LIMIT - 1);
      // The script reaches Redis and runs, but its answer is held: the call times out.
      proxy.holdReplies();
      const stalled = await create();
      expect(stalled.status).toBe(503);
      expect(stalled.ms).toBeLessThan(NOT_BLOCKED_MS);
      expect(await tokensInRedis(), "the held call ran once in Redis").toBe(LIMIT - 2);
      // The connection drops; the client reconnects; the held call must not be sent again.
      await proxy.cut();
      await proxy.restore();
      await untilRedisAnswers();
      expect(await tokensInRedis(), "one more take, the call that found Redis back; the held call not again").toBe(
        LIMIT - 3,
      );
    });
  });

  describeWithRedis()("Redis not there when the server starts", () => {
    beforeEach(async () => {
      await start("closed", { redisDownAtStart: true });
    });

    it("starts within the timeout, refuses with 503 meanwhile, and limits once Redis comes", async () => {
      expect(startedInMs, "the start waits for Redis at most the limiter's timeout").toBeLessThan(NOT_BLOCKED_MS);
      const refused = await create();
      expect(refused.status).toBe(503);
      expect(refused.ms).toBeLessThan(NOT_BLOCKED_MS);
      await redis.restart();
      await untilRedisAnswers();
      expect(await tokensInRedis()).toBe(LIMIT - 1);
    });
  });

  describeWithRedis()('RATE_LIMIT_ON_UNAVAILABLE="open"', () => {
    beforeEach(() => start("open"));

    it("limits per host from memory while Redis is down, at once, and shares the limit again once it is back", async () => {
      expect((await create()).status).toBe(200);
      await redis.kill();
      // This host's own bucket: the limit still holds, per host.
      for (let i = 0; i < LIMIT; i++) {
        const answer = await create();
        expect(answer.status, answer.body).toBe(200);
        expect(answer.ms).toBeLessThan(NOT_BLOCKED_MS);
      }
      const refused = await create();
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe("12");

      await redis.restart();
      // Redis is empty again: its bucket for the key starts full, and counts from here on.
      await untilRedisAnswers();
      expect(await tokensInRedis()).toBe(LIMIT - 1);
    });
  });
});
