import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/api-keys/api-keys.service.js";
import { systemClock } from "../../src/shared/clock.js";
import { countSessionTokens } from "../harness.js";
import { type RunningProcess, runEntry } from "../run-process.js";
import { describeWithRedis, startRedisServer, type TestRedisServer } from "../support/redis-server.js";
import { openSharedTestStores, type SharedTestStores } from "../support/test-store.js";

// The server as it is deployed (src/main.ts, configured by its environment): two processes on one
// database, SQLite file or PostgreSQL, with RATE_LIMIT_STORE=database, share the creation limit
// exactly; with the memory store each has its own. (Several processes on one SQLite file are what
// WORKERS will run.)

const LIMIT = 10;

let shared: SharedTestStores;
let processes: RunningProcess[] = [];

afterEach(async () => {
  for (const server of processes) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  processes = [];
  await shared.close();
});

async function twoServers(env: Record<string, string>): Promise<{ urls: string[]; secretKey: string }> {
  shared = await openSharedTestStores(1);
  const { secretKey } = await createApiKey(shared.stores[0]!, systemClock, {
    organizationName: "Acme",
    environment: "test",
  });
  processes = [0, 1].map(() =>
    runEntry("src/main.ts", [], {
      PORT: "0",
      HOST: "127.0.0.1",
      CREATE_RATE_LIMIT_PER_MINUTE: String(LIMIT),
      ...shared.databaseEnv,
      ...env,
    }),
  );
  const urls = await Promise.all(
    processes.map(async (server) => (await server.waitFor(/"url":"(http:\/\/[^"]+)"/))[1]!),
  );
  return { urls, secretKey };
}

/** 2 × LIMIT creations at once, every other one on the other process; the statuses, counted. */
async function createTwiceTheLimit(urls: string[], secretKey: string): Promise<Record<number, number>> {
  const answers = await Promise.all(
    Array.from({ length: 2 * LIMIT }, (_, i) =>
      fetch(`${urls[i % 2]}/trpc/sessionTokens.create`, {
        method: "POST",
        headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json" },
        body: JSON.stringify({ externalUserId: `user_${i}` }),
      }),
    ),
  );
  const statuses: Record<number, number> = {};
  for (const answer of answers) statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
  return statuses;
}

describe("two server processes on one database", () => {
  it("with RATE_LIMIT_STORE=database, accept exactly the limit between them", async () => {
    const { urls, secretKey } = await twoServers({ RATE_LIMIT_STORE: "database" });
    expect(await createTwiceTheLimit(urls, secretKey)).toEqual({ 200: LIMIT, 429: LIMIT });
    expect(await countSessionTokens(shared.stores[0]!)).toBe(LIMIT);
  }, 60_000);

  it("with RATE_LIMIT_STORE=memory, accept the limit each", async () => {
    const { urls, secretKey } = await twoServers({ RATE_LIMIT_STORE: "memory" });
    expect(await createTwiceTheLimit(urls, secretKey)).toEqual({ 200: 2 * LIMIT });
  }, 60_000);
});

describeWithRedis()("two server processes on one database and one Redis", () => {
  let redis: TestRedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => redis.stop());

  it("with RATE_LIMIT_URL, accept exactly the limit between them", async () => {
    const { urls, secretKey } = await twoServers({ RATE_LIMIT_URL: redis.url });
    expect(processes.map((server) => server.stdout()).join("\n")).toMatch(/"rateLimitStore":"redis"/);
    expect(await createTwiceTheLimit(urls, secretKey)).toEqual({ 200: LIMIT, 429: LIMIT });
    expect(await countSessionTokens(shared.stores[0]!)).toBe(LIMIT);
  }, 60_000);
});
