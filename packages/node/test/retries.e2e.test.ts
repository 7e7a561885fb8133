import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../src/index.js";
import { rejectionOf, type ServerHarness, startServerHarness } from "./server-harness.js";
import { type FlakyProxy, type ProxyAction, type SeenRequest, startFlakyProxy } from "./support/flaky-proxy.js";

// The client retries what is safe to retry, and each retried mutation carries the Idempotency-Key
// of its first attempt, so the real server behind a failing proxy does the work once.

let harness: ServerHarness;
let proxy: FlakyProxy | undefined;

beforeAll(async () => {
  harness = await startServerHarness();
});
afterAll(() => harness.close());
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function tokensOf(externalUserId: string): Promise<number> {
  const row = await harness.db.kysely
    .selectFrom("session_tokens")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("external_user_id", "=", externalUserId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A client of the test key whose requests go through a proxy deciding the fate of each request to `procedure`. */
async function clientBehindProxy(
  procedure: string,
  decide: (n: number) => ProxyAction,
  options: { maxNetworkRetries?: number; timeoutMs?: number } = {},
): Promise<BillingOS> {
  let n = 0;
  proxy = await startFlakyProxy(harness.url, (_all, request) =>
    request.path === `/trpc/${procedure}` ? decide(++n) : "forward",
  );
  return new BillingOS({ secretKey: harness.testKey.secretKey, sandboxUrl: proxy.url, ...options });
}

const requestsTo = (procedure: string): SeenRequest[] =>
  proxy!.seen.filter((request) => request.path === `/trpc/${procedure}`);

describe("a mutation whose answer is lost", () => {
  it("is sent again with the same Idempotency-Key, and one token exists", async () => {
    const client = await clientBehindProxy("sessionTokens.create", (n) => (n === 1 ? "lose-answer" : "forward"));
    const created = await client.createSessionToken({ externalUserId: "lost_answer" });
    const attempts = requestsTo("sessionTokens.create");
    expect(attempts).toHaveLength(2);
    const key = attempts[0]!.headers["idempotency-key"];
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(attempts[1]!.headers["idempotency-key"]).toBe(key);
    expect(await tokensOf("lost_answer")).toBe(1);
    expect((await client.verifySessionToken(created.sessionToken)).valid).toBe(true);
  });

  it("without retries fails, though the server did the work (what the key is for)", async () => {
    const client = await clientBehindProxy("sessionTokens.create", () => "lose-answer", { maxNetworkRetries: 0 });
    const error = await rejectionOf(() => client.createSessionToken({ externalUserId: "no_retry" }));
    expect(error).toBeInstanceOf(BillingOSError);
    expect(requestsTo("sessionTokens.create")).toHaveLength(1);
    expect(requestsTo("sessionTokens.create")[0]!.headers["idempotency-key"]).toBeUndefined();
    expect(await tokensOf("no_retry")).toBe(1);
  });

  it("gives up after maxNetworkRetries, having done the work once", async () => {
    const client = await clientBehindProxy("sessionTokens.create", () => "lose-answer", { maxNetworkRetries: 2 });
    const error = await rejectionOf(() => client.createSessionToken({ externalUserId: "always_lost" }));
    expect(error).toBeInstanceOf(BillingOSError);
    expect(requestsTo("sessionTokens.create")).toHaveLength(3);
    expect(await tokensOf("always_lost")).toBe(1);
  });
});

describe("answers that say later", () => {
  it("retries a 503 and a 429, waiting the Retry-After the server sent", async () => {
    const client = await clientBehindProxy("sessionTokens.create", (n) =>
      n === 1
        ? {
            status: 503,
            json: { error: { message: "busy", code: -32000, data: { code: "SERVICE_UNAVAILABLE", httpStatus: 503 } } },
          }
        : n === 2
          ? {
              status: 429,
              headers: { "retry-after": "1" },
              json: {
                error: { message: "slow down", code: -32029, data: { code: "TOO_MANY_REQUESTS", httpStatus: 429 } },
              },
            }
          : "forward",
    );
    const started = Date.now();
    await client.createSessionToken({ externalUserId: "later" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(requestsTo("sessionTokens.create")).toHaveLength(3);
    expect(await tokensOf("later")).toBe(1);
  });

  it("does not wait for a Retry-After over 10 s: the caller gets the 429 and its hint", async () => {
    const client = await clientBehindProxy("sessionTokens.create", () => ({
      status: 429,
      headers: { "retry-after": "60" },
      json: {
        error: {
          message: "slow down",
          code: -32029,
          data: { code: "TOO_MANY_REQUESTS", httpStatus: 429, retryAfterSeconds: 60 },
        },
      },
    }));
    const error = (await rejectionOf(() =>
      client.createSessionToken({ externalUserId: "too_long" }),
    )) as BillingOSError;
    expect(error.code).toBe("TOO_MANY_REQUESTS");
    expect(error.retryAfterSeconds).toBe(60);
    expect(requestsTo("sessionTokens.create")).toHaveLength(1);
  });

  it("never retries a final answer (a 409 conflict, a 400)", async () => {
    const client = await clientBehindProxy("customers.bind", () => "forward");
    const error = (await rejectionOf(() =>
      client.bindCustomer({ stripeCustomerId: "cus_missing", externalUserId: "u" }),
    )) as BillingOSError;
    expect(error.code).toBe("NOT_FOUND");
    expect(requestsTo("customers.bind")).toHaveLength(1);
  });
});

describe("timeouts", () => {
  it("sends an attempt with no answer within timeoutMs again, with the same key", async () => {
    const client = await clientBehindProxy("sessionTokens.create", (n) => (n === 1 ? "hold" : "forward"), {
      timeoutMs: 300,
    });
    await client.createSessionToken({ externalUserId: "slow" });
    const attempts = requestsTo("sessionTokens.create");
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.headers["idempotency-key"]).toBe(attempts[0]!.headers["idempotency-key"]);
    expect(await tokensOf("slow")).toBe(1);
  });

  it("fails with TIMEOUT once every attempt has timed out", async () => {
    const client = await clientBehindProxy("sessionTokens.create", () => "hold", {
      timeoutMs: 200,
      maxNetworkRetries: 1,
    });
    const error = (await rejectionOf(() => client.createSessionToken({ externalUserId: "never" }))) as BillingOSError;
    expect(error.code).toBe("TIMEOUT");
    expect(requestsTo("sessionTokens.create")).toHaveLength(2);
  });
});

describe("which calls carry a key", () => {
  it("gives each mutation its own key, and none to verify or to queries", async () => {
    const client = await clientBehindProxy("none", () => "forward");
    const first = await client.createSessionToken({ externalUserId: "keys" });
    await client.createSessionToken({ externalUserId: "keys" });
    await client.verifySessionToken(first.sessionToken);
    await client.listSessionTokens({ externalUserId: "keys" });
    await client.revokeSessionToken(first.tokenId);
    const keyOf = (path: string) =>
      proxy!.seen.filter((r) => r.path === `/trpc/${path}`).map((r) => r.headers["idempotency-key"]);
    const creates = keyOf("sessionTokens.create");
    expect(creates).toHaveLength(2);
    expect(creates[0]).not.toBe(creates[1]);
    expect(keyOf("sessionTokens.verify")).toEqual([undefined]);
    expect(keyOf("sessionTokens.list")).toEqual([undefined]);
    expect(keyOf("sessionTokens.revoke")[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a maxNetworkRetries that is not an integer from 0 to 10", () => {
    for (const bad of [-1, 1.5, 11, Number.NaN]) {
      expect(() => new BillingOS({ secretKey: harness.testKey.secretKey, maxNetworkRetries: bad })).toThrow(
        /maxNetworkRetries must be an integer from 0 to 10/,
      );
    }
  });
});

describe("your own idempotencyKey", () => {
  it("replays across clients (a process restarted mid-call), and refuses other input under it", async () => {
    const key = crypto.randomUUID();
    const first = await harness
      .client(harness.testKey.secretKey)
      .createSessionToken({ externalUserId: "own_key" }, { idempotencyKey: key });
    const restarted = harness.client(harness.testKey.secretKey);
    expect(await restarted.createSessionToken({ externalUserId: "own_key" }, { idempotencyKey: key })).toEqual(first);
    expect(await tokensOf("own_key")).toBe(1);
    const error = (await rejectionOf(() =>
      restarted.createSessionToken({ externalUserId: "other" }, { idempotencyKey: key }),
    )) as BillingOSError;
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toMatch(/already used for a different request/);
  });

  it("is sent even without retries, and on every attempt of a retried call", async () => {
    const client = await clientBehindProxy("sessionTokens.revokeForCustomer", (n) =>
      n === 1 ? "lose-answer" : "forward",
    );
    await client.createSessionToken({ externalUserId: "own_revoke" });
    const revoked = await client.revokeCustomerSessionTokens(
      { externalUserId: "own_revoke" },
      { idempotencyKey: "revoke-own-1" },
    );
    expect(revoked.revokedCount).toBe(1);
    expect(requestsTo("sessionTokens.revokeForCustomer").map((r) => r.headers["idempotency-key"])).toEqual([
      "revoke-own-1",
      "revoke-own-1",
    ]);
    const once = new BillingOS({ secretKey: harness.testKey.secretKey, sandboxUrl: harness.url, maxNetworkRetries: 0 });
    expect(
      await once.revokeCustomerSessionTokens({ externalUserId: "own_revoke" }, { idempotencyKey: "revoke-own-1" }),
    ).toEqual(revoked);
  });

  it("is checked before anything is sent", async () => {
    const client = harness.client(harness.testKey.secretKey);
    for (const bad of ["", "k".repeat(256), "clé", "a\nb"]) {
      const error = (await rejectionOf(() =>
        client.createSessionToken({ externalUserId: "bad_key" }, { idempotencyKey: bad }),
      )) as BillingOSError;
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toMatch(/idempotencyKey must be 1–255 printable ASCII characters/);
    }
    expect(await tokensOf("bad_key")).toBe(0);
  });
});
