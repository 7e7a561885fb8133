import { createTRPCClient, httpBatchLink, httpLink } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { MemoryRateLimiter } from "../../src/rate-limits/memory-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import type { AppRouter } from "../../src/trpc/router.js";
import { openTestStore } from "../support/test-store.js";

// The fast handler must answer exactly as tRPC's stock adapter: every request below goes to a
// server of each kind (same database, same clock), and status, body bytes and the headers that
// carry meaning must be equal. (Framing differs on purpose: content-length instead of chunked.)

const COMPARED_HEADERS = ["content-type", "vary", "allow", "retry-after", "access-control-allow-origin"];
const ORIGIN = "http://app.example";

let db: Store;
let clock: ManualClock;
let stock: RunningHttpServer;
let fast: RunningHttpServer;
let key: CreatedApiKey;
let liveKey: CreatedApiKey;
let validToken: string;
let revokedToken: string;
let revokedTokenId: string;
let scopedToken: string;

beforeAll(async () => {
  db = await openTestStore();
  clock = new ManualClock();
  key = await createApiKey(db, clock, { organizationName: "Acme", environment: "test" });
  liveKey = await createApiKey(db, clock, { organizationName: "Acme", environment: "live" });
  const start = (handler: "fast" | "stock") =>
    startHttpServer({
      deps: { store: db, clock, logger: createLogger("silent"), createRateLimiter: new MemoryRateLimiter(1000, clock) },
      port: 0,
      host: "127.0.0.1",
      handler,
      maxBodyBytes: 64 * 1024,
      maxBatchSize: 3,
      corsOrigins: [ORIGIN],
    });
  stock = await start("stock");
  fast = await start("fast");
  const api = client(fast);
  validToken = (await api.sessionTokens.create.mutate({ externalUserId: "user_1", email: "a@example.com" }))
    .sessionToken;
  const revoked = await api.sessionTokens.create.mutate({ externalUserId: "user_2" });
  revokedToken = revoked.sessionToken;
  revokedTokenId = revoked.tokenId;
  await api.sessionTokens.revoke.mutate({ tokenId: revokedTokenId });
  scopedToken = (
    await api.sessionTokens.create.mutate({ externalUserId: "user_3", allowedOperations: ["session:read"] })
  ).sessionToken;
  await api.customers.import.mutate({ customers: [{ stripeCustomerId: "cus_A1", email: "b@example.com" }] });
  await api.customers.bind.mutate({ stripeCustomerId: "cus_A1", externalUserId: "user_9" });
});

afterAll(async () => {
  await stock.close();
  await fast.close();
  await db.close();
});

function client(server: RunningHttpServer, batch = false, secretKey = key.secretKey) {
  const url = `${server.url}/trpc`;
  const headers = () => ({ authorization: `Bearer ${secretKey}` });
  return createTRPCClient<AppRouter>({ links: [batch ? httpBatchLink({ url, headers }) : httpLink({ url, headers })] });
}

async function send(server: RunningHttpServer, path: string, init: RequestInit = {}) {
  const response = await fetch(`${server.url}${path}`, init);
  const headers = Object.fromEntries(COMPARED_HEADERS.map((name) => [name, response.headers.get(name)]));
  const framedByLength = response.headers.get("content-length") !== null;
  return { status: response.status, headers, body: await response.text(), framedByLength };
}

/**
 * Sends the same request to both servers and expects the same answer; returns it, with whether
 * the fast path answered (it frames with content-length, the stock adapter streams chunks).
 */
async function expectSame(path: string, init: () => RequestInit) {
  const fromStock = await send(stock, path, init());
  const fromFast = await send(fast, path, init());
  const { framedByLength, ...fastAnswer } = fromFast;
  const { framedByLength: _stockFraming, ...stockAnswer } = fromStock;
  expect(fastAnswer).toEqual(stockAnswer);
  return { ...fastAnswer, answeredByFastPath: framedByLength };
}

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
const post = (body: unknown, headers: Record<string, string> = bearer(key.secretKey)): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const get = (headers: Record<string, string> = bearer(key.secretKey)): RequestInit => ({ method: "GET", headers });
const input = (value: unknown) => encodeURIComponent(JSON.stringify(value));

describe("fast handler vs stock adapter: successes", () => {
  it("a mutation (verify of a valid token)", async () => {
    const answer = await expectSame("/trpc/sessionTokens.verify", () => post({ sessionToken: validToken }));
    expect(answer.status).toBe(200);
    expect(answer.answeredByFastPath).toBe(true);
    expect(JSON.parse(answer.body).result.data.valid).toBe(true);
  });

  it("a mutation with a typed negative answer (verify of a revoked token)", async () => {
    const answer = await expectSame("/trpc/sessionTokens.verify", () => post({ sessionToken: revokedToken }));
    expect(JSON.parse(answer.body).result.data).toEqual({ valid: false, reason: "revoked" });
  });

  it("a query with input in the URL (list)", async () => {
    const answer = await expectSame(`/trpc/sessionTokens.list?input=${input({ externalUserId: "user_1" })}`, () =>
      get(),
    );
    expect(JSON.parse(answer.body).result.data.data).toHaveLength(1);
  });

  it("a query without input (session.get with a session token)", async () => {
    const answer = await expectSame("/trpc/session.get", () => get(bearer(validToken)));
    expect(answer.status).toBe(200);
  });

  it("a batch of queries", async () => {
    const answer = await expectSame(
      `/trpc/sessionTokens.list,customers.get?batch=1&input=${input({ 0: { externalUserId: "user_1" }, 1: { stripeCustomerId: "cus_A1" } })}`,
      () => get(),
    );
    expect(answer.status).toBe(200);
  });

  it("a create differs only in the fresh token and id", async () => {
    const fromStock = await send(stock, "/trpc/sessionTokens.create", post({ externalUserId: "user_5" }));
    const fromFast = await send(fast, "/trpc/sessionTokens.create", post({ externalUserId: "user_5" }));
    const normalize = (body: string) =>
      body.replace(/bos_session_test_[0-9A-Za-z]+/g, "TOKEN").replace(/tok_[0-9a-z]{26}/g, "TOKEN_ID");
    expect({ status: fromFast.status, headers: fromFast.headers, body: normalize(fromFast.body) }).toEqual({
      status: fromStock.status,
      headers: fromStock.headers,
      body: normalize(fromStock.body),
    });
    expect([fromFast.framedByLength, fromStock.framedByLength]).toEqual([true, false]);
  });
});

describe("fast handler vs stock adapter: every error code", () => {
  it.each([
    [
      "BAD_REQUEST: field errors",
      "/trpc/sessionTokens.create",
      () => post({ externalUserId: "", expiresIn: 59 }),
      400,
      true,
    ],
    [
      "BAD_REQUEST: unknown field",
      "/trpc/sessionTokens.create",
      () => post({ externalUserId: "u", expiresin: 60 }),
      400,
      true,
    ],
    ["BAD_REQUEST: malformed JSON body", "/trpc/sessionTokens.create", () => post("{bad"), 400, true],
    ["BAD_REQUEST: empty body", "/trpc/sessionTokens.create", () => post(""), 400, true],
    ["BAD_REQUEST: JSON null body", "/trpc/sessionTokens.create", () => post("null"), 400, true],
    ["BAD_REQUEST: malformed input query", "/trpc/sessionTokens.list?input=%7Bbad", () => get(), 400, true],
    ["BAD_REQUEST: batch input not an object", "/trpc/sessionTokens.verify?batch=1", () => post("[1]"), 400, true],
    [
      "BAD_REQUEST: batch over the limit",
      "/trpc/session.get,session.get,session.get,session.get?batch=1",
      () => get(),
      400,
      false,
    ],
    ["UNAUTHORIZED: no key", "/trpc/sessionTokens.verify", () => post({ sessionToken: validToken }, {}), 401, true],
    [
      "UNAUTHORIZED: malformed key",
      "/trpc/sessionTokens.verify",
      () => post({ sessionToken: validToken }, bearer("sk_test_x")),
      401,
      true,
    ],
    ["UNAUTHORIZED: revoked session token", "/trpc/session.get", () => get(bearer(revokedToken)), 401, true],
    [
      "FORBIDDEN: operation outside the token's scope",
      "/trpc/session.customer",
      () => get(bearer(scopedToken)),
      403,
      true,
    ],
    [
      "NOT_FOUND: unknown token id",
      "/trpc/sessionTokens.revoke",
      () => post({ tokenId: "tok_01jx0000000000000000000000" }),
      404,
      true,
    ],
    // Unknown procedures are answered before either handler (without repeating the path).
    ["NOT_FOUND: unknown procedure", "/trpc/sessionTokens.nope", () => post({}), 404, true],
    [
      "CONFLICT: customer already bound",
      "/trpc/customers.bind",
      () => post({ stripeCustomerId: "cus_A1", externalUserId: "user_8" }),
      409,
      true,
    ],
    [
      "METHOD_NOT_SUPPORTED: GET of a mutation",
      `/trpc/sessionTokens.verify?input=${input({ sessionToken: "x" })}`,
      () => get(),
      405,
      false,
    ],
    [
      "METHOD_NOT_SUPPORTED: POST of a query",
      "/trpc/sessionTokens.list",
      () => post({ externalUserId: "user_1" }),
      405,
      false,
    ],
    [
      "UNSUPPORTED_MEDIA_TYPE: form body",
      "/trpc/sessionTokens.verify",
      () => ({ method: "POST", headers: { "content-type": "text/plain", ...bearer(key.secretKey) }, body: "x" }),
      415,
      false,
    ],
    // Refused from its Content-Length, before the body is read: by the server's own code for both handlers.
    [
      "PAYLOAD_TOO_LARGE: body over the limit",
      "/trpc/sessionTokens.verify",
      () => post({ sessionToken: "x".repeat(70_000) }),
      413,
      true,
    ],
  ])("%s", async (_name, path, init, status, fastPath) => {
    const answer = await expectSame(path, init);
    expect(answer.status).toBe(status);
    // The procedure-level errors are answered by the fast path; request-level ones go to the stock adapter.
    expect(answer.answeredByFastPath).toBe(fastPath);
  });

  it("a batch with mixed results answers 207 with each result in place", async () => {
    const answer = await expectSame(
      "/trpc/sessionTokens.verify,sessionTokens.revoke,sessionTokens.verify?batch=1",
      () =>
        post({
          0: { sessionToken: validToken },
          1: { tokenId: "tok_01jx0000000000000000000000" },
          2: { sessionToken: 7 },
        }),
    );
    expect(answer.status).toBe(207);
    expect(answer.answeredByFastPath).toBe(true);
    const [first, second, third] = JSON.parse(answer.body);
    expect(first.result.data.valid).toBe(true);
    expect(second.error.data.code).toBe("NOT_FOUND");
    expect(third.error.data.code).toBe("BAD_REQUEST");
  });

  it("a batch mixing a query and a mutation", async () => {
    const answer = await expectSame("/trpc/sessionTokens.verify,sessionTokens.list?batch=1", () => post({}));
    expect(answer.status).toBeGreaterThanOrEqual(400);
  });

  it("TOO_MANY_REQUESTS carries Retry-After on both", async () => {
    const limited = (handler: "fast" | "stock") =>
      startHttpServer({
        deps: { store: db, clock, logger: createLogger("silent"), createRateLimiter: new MemoryRateLimiter(1, clock) },
        port: 0,
        host: "127.0.0.1",
        handler,
      });
    const servers = [await limited("stock"), await limited("fast")];
    const answers = [];
    for (const server of servers) {
      await send(server, "/trpc/sessionTokens.create", post({ externalUserId: "user_rl" }, bearer(liveKey.secretKey)));
      const { framedByLength: _framing, ...answer } = await send(
        server,
        "/trpc/sessionTokens.create",
        post({ externalUserId: "user_rl" }, bearer(liveKey.secretKey)),
      );
      answers.push(answer);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[0]!.status).toBe(429);
    expect(answers[0]!.headers["retry-after"]).toBe("60");
    for (const server of servers) await server.close();
  });

  it("CORS headers and Vary: Origin are the same", async () => {
    const answer = await expectSame("/trpc/session.get", () => get({ ...bearer(validToken), origin: ORIGIN }));
    expect(answer.headers["access-control-allow-origin"]).toBe(ORIGIN);
    expect(answer.headers.vary).toBe("trpc-accept, accept, Origin");
  });
});

describe("the real @trpc/client against the fast handler", () => {
  it("works through httpLink and httpBatchLink, including typed errors", async () => {
    for (const batch of [false, true]) {
      const api = client(fast, batch);
      const [created, page] = await Promise.all([
        api.sessionTokens.create.mutate({ externalUserId: "user_c" }),
        api.sessionTokens.list.query({ externalUserId: "user_1" }),
      ]);
      expect(created.sessionToken).toMatch(/^bos_session_test_/);
      expect(page.data).toHaveLength(1);
      expect((await api.sessionTokens.verify.mutate({ sessionToken: created.sessionToken })).valid).toBe(true);
      await expect(
        api.sessionTokens.revoke.mutate({ tokenId: "tok_01jx0000000000000000000000" }),
      ).rejects.toMatchObject({
        data: { code: "NOT_FOUND", httpStatus: 404 },
      });
    }
  });
});
