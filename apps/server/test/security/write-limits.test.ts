import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// The node client, by path: @billingos/node depends on this package, so it cannot be a dependency back.
import { BillingOS, BillingOSError } from "../../../../packages/node/src/index.js";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { loadConfig } from "../../src/config.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { MemoryRateLimiter } from "../../src/rate-limits/memory-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { stripeCustomers } from "../customers/support.js";
import { START_TIME } from "../harness.js";
import { call, killAllServers, makeTempDir, startServer } from "../reliability/support.js";
import { openTestStore } from "../support/test-store.js";
import { type HttpAnswer, send } from "./http-client.js";
import { callerWith, tableNames, writeFootprint } from "./support.js";

// SPEC §6, every kind of write has a per-key limit: the merchant writes other than creation and
// import (sessionTokens.revoke, sessionTokens.revokeForCustomer, customers.bind, customers.unbind)
// share one bucket per key, WRITE_RATE_LIMIT_PER_MINUTE. Without it one key cycled binds at
// ~1,050/s, growing the database and the audit table without bound. Both wire handlers.

const HANDLERS = ["fast", "stock"] as const;
const PER_MINUTE = 5;
/** 5 a minute refill one call every 12 s: the wait a client is told once the burst is spent. */
const REFILL_SECONDS = 60 / PER_MINUTE;
/** Fixtures per kind of write: more than any test spends. */
const FIXTURES = 12;

let db: Store;
let clock: ManualClock;
let server: RunningHttpServer;
let keys: { a: CreatedApiKey; a2: CreatedApiKey; b: CreatedApiKey };
/** Token ids for sessionTokens.revoke, one per call. */
let tokenIds: string[];

/**
 * Each write, with the input of its i-th call: every call changes something (a token revoked, a
 * customer bound or unbound), so a write refused by the limit is visible as one that did not happen.
 */
const WRITES = {
  "sessionTokens.revoke": (i: number) => ({ tokenId: tokenIds[i]! }),
  "sessionTokens.revokeForCustomer": (i: number) => ({ externalUserId: `holder_${i}` }),
  "customers.bind": (i: number) => ({ stripeCustomerId: `cus_free${i}`, externalUserId: `bound_by_hand_${i}` }),
  "customers.unbind": (i: number) => ({ stripeCustomerId: `cus_bound${i}` }),
} as const;
type Write = keyof typeof WRITES;
const WRITE_NAMES = Object.keys(WRITES) as Write[];

/** How many of a write's effects the database holds: the count a refused call must leave unchanged. */
async function effects(write: Write): Promise<number> {
  const count = async (query: Promise<{ n: number | string | bigint } | undefined>) => Number((await query)?.n ?? 0);
  switch (write) {
    case "sessionTokens.revoke":
    case "sessionTokens.revokeForCustomer":
      return count(
        db.kysely
          .selectFrom("session_tokens")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("revoked_at", "is not", null)
          .where("external_user_id", "like", write === "sessionTokens.revoke" ? "revocable_%" : "holder_%")
          .executeTakeFirst(),
      );
    case "customers.bind":
      return count(
        db.kysely
          .selectFrom("imported_customers")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("stripe_customer_id", "like", "cus_free%")
          .where("external_user_id", "is not", null)
          .executeTakeFirst(),
      );
    case "customers.unbind":
      return count(
        db.kysely
          .selectFrom("imported_customers")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("unbound_at", "is not", null)
          .executeTakeFirst(),
      );
  }
}

async function start(handler: (typeof HANDLERS)[number]) {
  db = await openTestStore();
  clock = new ManualClock(START_TIME);
  keys = {
    a: await createApiKey(db, clock, { organizationName: "Acme", environment: "test" }),
    a2: await createApiKey(db, clock, { organizationName: "Acme", environment: "test" }),
    b: await createApiKey(db, clock, { organizationName: "Globex", environment: "test" }),
  };
  // Fixtures through the real procedures, on a context with no limit (the server's limiter is its own).
  const setup = callerWith({ store: db, clock, logger: createLogger("silent") }, `Bearer ${keys.a.secretKey}`);
  tokenIds = [];
  for (let i = 0; i < FIXTURES; i++) {
    tokenIds.push((await setup.sessionTokens.create({ externalUserId: `revocable_${i}` })).tokenId);
    await setup.sessionTokens.create({ externalUserId: `holder_${i}` });
  }
  await setup.customers.import({
    customers: [...stripeCustomers("free", FIXTURES), ...stripeCustomers("bound", FIXTURES)],
  });
  for (let i = 0; i < FIXTURES; i++)
    await setup.customers.bind({ stripeCustomerId: `cus_bound${i}`, externalUserId: `owner_${i}` });
  server = await startHttpServer({
    deps: {
      store: db,
      clock,
      logger: createLogger("silent"),
      writeRateLimiter: new MemoryRateLimiter(PER_MINUTE, clock),
    },
    port: 0,
    host: "127.0.0.1",
    handler,
  });
}

afterEach(async () => {
  await server.close(1_000);
  await db.close();
});

type ErrorBody = { error?: { message: string; data: Record<string, unknown> } };
type BatchItem = { result?: unknown; error?: { message: string; data: { code: string } } };
const json = (answer: HttpAnswer) => JSON.parse(answer.body) as ErrorBody & BatchItem[];

function post(key: CreatedApiKey, procedure: string, input: unknown) {
  return send(server.port, {
    method: "POST",
    path: `/trpc/${procedure}`,
    headers: { authorization: `Bearer ${key.secretKey}`, "content-type": "application/json" },
    body: JSON.stringify(input),
  });
}

/** Spends key A's whole burst on `write`, each call changing something. Returns the next unused index. */
async function spendBurst(write: Write): Promise<number> {
  for (let i = 0; i < PER_MINUTE; i++) expect((await post(keys.a, write, WRITES[write](i))).status).toBe(200);
  return PER_MINUTE;
}

describe.each(HANDLERS)("per-key write limit on the %s handler", (handler) => {
  beforeEach(() => start(handler));

  it.each(WRITE_NAMES)(
    "%s past the limit gets 429 with Retry-After and retryAfterSeconds, and changes nothing",
    async (write) => {
      const next = await spendBurst(write);
      expect(await effects(write)).toBe(PER_MINUTE);
      const tables = await tableNames(db);
      const before = await writeFootprint(db, tables);
      const refused = await post(keys.a, write, WRITES[write](next));
      // Refused: the key's bucket of writes is empty.
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe(String(REFILL_SECONDS));
      expect(json(refused).error?.data).toMatchObject({
        code: "TOO_MANY_REQUESTS",
        httpStatus: 429,
        retryAfterSeconds: REFILL_SECONDS,
      });
      expect(json(refused).error?.message).toBe(
        `Too many writes (revoke, bind, unbind) with this key: the limit is ${PER_MINUTE} a minute; retry in ${REFILL_SECONDS} s`,
      );
      // No row changed and no audit event was written (audit_events is among the tables counted).
      expect(await writeFootprint(db, tables)).toEqual(before);
      expect(await effects(write)).toBe(PER_MINUTE);
    },
  );

  it.each(WRITE_NAMES)("a batch of 8 %s calls in one request stores exactly the allowance of 5", async (write) => {
    const calls = 8;
    const body = Object.fromEntries(Array.from({ length: calls }, (_, i) => [i, WRITES[write](i)]));
    const answer = await send(server.port, {
      method: "POST",
      path: `/trpc/${Array(calls).fill(write).join(",")}?batch=1`,
      headers: { authorization: `Bearer ${keys.a.secretKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const items = json(answer);
    expect(items.filter((item) => item.result !== undefined)).toHaveLength(PER_MINUTE);
    // Refused: the calls past the burst, inside the same request.
    expect(items.filter((item) => item.error?.data.code === "TOO_MANY_REQUESTS")).toHaveLength(calls - PER_MINUTE);
    expect(await effects(write)).toBe(PER_MINUTE);
  });

  it("the four writes share one bucket per key: a mix of them spends it", async () => {
    expect((await post(keys.a, "sessionTokens.revoke", WRITES["sessionTokens.revoke"](0))).status).toBe(200);
    expect(
      (await post(keys.a, "sessionTokens.revokeForCustomer", WRITES["sessionTokens.revokeForCustomer"](0))).status,
    ).toBe(200);
    expect((await post(keys.a, "customers.bind", WRITES["customers.bind"](0))).status).toBe(200);
    expect((await post(keys.a, "customers.unbind", WRITES["customers.unbind"](0))).status).toBe(200);
    expect((await post(keys.a, "customers.unbind", WRITES["customers.unbind"](1))).status).toBe(200);
    for (const write of WRITE_NAMES) {
      // Refused: five writes of any kind spent the key's minute.
      expect((await post(keys.a, write, WRITES[write](2))).status, write).toBe(429);
    }
  });

  it("another key, of the same organization or another, is unaffected; so are the limited key's creations and reads", async () => {
    await spendBurst("customers.bind");
    expect((await post(keys.a, "customers.bind", WRITES["customers.bind"](PER_MINUTE))).status).toBe(429);
    // The same organization's other key writes the same customers and tokens.
    for (const write of WRITE_NAMES)
      expect((await post(keys.a2, write, WRITES[write](PER_MINUTE + 1))).status, write).toBe(200);
    expect((await post(keys.b, "sessionTokens.revokeForCustomer", { externalUserId: "nobody" })).status).toBe(200);
    // Only the other writes are limited: the limited key still creates tokens and reads.
    expect((await post(keys.a, "sessionTokens.create", { externalUserId: "user_1" })).status).toBe(200);
    const read = await send(server.port, {
      path: `/trpc/customers.get?input=${encodeURIComponent(JSON.stringify({ stripeCustomerId: "cus_free0" }))}`,
      headers: { authorization: `Bearer ${keys.a.secretKey}` },
    });
    expect(read.status).toBe(200);
  });

  it("after the refill interval the key writes again, for one call (a refill, not a new burst)", async () => {
    const next = await spendBurst("sessionTokens.revoke");
    expect((await post(keys.a, "sessionTokens.revoke", WRITES["sessionTokens.revoke"](next))).status).toBe(429);
    clock.advance((REFILL_SECONDS - 1) * 1000);
    const early = await post(keys.a, "customers.unbind", WRITES["customers.unbind"](0));
    // Refused: one second short of a refill, and told so.
    expect(early.status).toBe(429);
    expect(early.headers["retry-after"]).toBe("1");
    clock.advance(1000);
    expect((await post(keys.a, "sessionTokens.revoke", WRITES["sessionTokens.revoke"](next))).status).toBe(200);
    expect(await effects("sessionTokens.revoke")).toBe(PER_MINUTE + 1);
    // Refused again: the wait bought one call.
    expect((await post(keys.a, "customers.unbind", WRITES["customers.unbind"](0))).status).toBe(429);
    // A whole minute refills the whole burst.
    clock.advance(60_000);
    for (let i = 0; i < PER_MINUTE; i++)
      expect((await post(keys.a, "customers.unbind", WRITES["customers.unbind"](i))).status).toBe(200);
  });

  it("the node client surfaces BillingOSError TOO_MANY_REQUESTS with retryAfterSeconds", async () => {
    const billing = new BillingOS({ secretKey: keys.a.secretKey, sandboxUrl: server.url, productionUrl: server.url });
    for (let i = 0; i < PER_MINUTE; i++) await billing.unbindCustomer(`cus_bound${i}`);
    const thrown = await billing.revokeSessionToken(tokenIds[0]!).catch((error: unknown) => error);
    // Refused: the 6th write of the minute.
    expect(thrown).toBeInstanceOf(BillingOSError);
    expect(thrown).toMatchObject({ code: "TOO_MANY_REQUESTS", httpStatus: 429, retryAfterSeconds: REFILL_SECONDS });
  });
});

describe("WRITE_RATE_LIMIT_PER_MINUTE", () => {
  it("defaults to 3000, reads 0 (off) and any whole number, and refuses anything else in one line", () => {
    expect(loadConfig({}).writeRateLimitPerMinute).toBe(3_000);
    expect(loadConfig({ WRITE_RATE_LIMIT_PER_MINUTE: "0" }).writeRateLimitPerMinute).toBe(0);
    expect(loadConfig({ WRITE_RATE_LIMIT_PER_MINUTE: "120" }).writeRateLimitPerMinute).toBe(120);
    expect(() => loadConfig({ WRITE_RATE_LIMIT_PER_MINUTE: "1.5" })).toThrow(
      'Invalid configuration: WRITE_RATE_LIMIT_PER_MINUTE must be a whole number from 0 to 10000000 (got "1.5")',
    );
  });

  it("is honoured by the server process (src/main.ts): the 3rd write of a minute at 2 gets 429; at 0 none does", async () => {
    const temp = makeTempDir("billingos-write-limit-");
    try {
      const limited = await startServer(join(temp.path, "limited.sqlite"), { WRITE_RATE_LIMIT_PER_MINUTE: "2" });
      const revokeAll = (url: string, key: string) =>
        call(url, key, "sessionTokens.revokeForCustomer", { externalUserId: "nobody" });
      const statuses = async (url: string, key: string, n: number) => {
        const seen: number[] = [];
        for (let i = 0; i < n; i++) {
          const outcome = await revokeAll(url, key);
          seen.push(outcome.kind === "response" ? outcome.status : 0);
        }
        return seen;
      };
      expect(await statuses(limited.url, limited.developmentKey!, 3)).toEqual([200, 200, 429]);
      const off = await startServer(join(temp.path, "off.sqlite"), { WRITE_RATE_LIMIT_PER_MINUTE: "0" });
      expect(await statuses(off.url, off.developmentKey!, 20)).toEqual(Array(20).fill(200));
    } finally {
      await killAllServers();
      temp.remove();
    }
  }, 60_000);
});
