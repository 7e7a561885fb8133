import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpServerOptions, type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { buildOpenApiDocument } from "../../src/openapi/openapi-document.js";
import { MemoryRateLimiter } from "../../src/rate-limits/memory-rate-limiter.js";
import { appRouter } from "../../src/trpc/router.js";
import { createHarness, type Harness } from "../harness.js";
import { type Answer, createContract } from "./openapi-contract.js";

// The contract: every answer a real server gives over HTTP, for every procedure, on its happy and
// its error paths, is one the OpenAPI document describes (the status is documented for that
// operation, and the body and headers validate against its schema). Requests are built from the
// document alone (its method for each path, ?input= for GET, a JSON body for POST), as a client in
// another language would build them.

const document = buildOpenApiDocument();
const contract = createContract(document);
const paths = document.paths as Record<string, Record<string, unknown>>;
const procedures = Object.keys(appRouter._def.procedures as object);

type Method = "get" | "post";
const methodOf = (procedure: string): Method => Object.keys(paths[`/trpc/${procedure}`]!)[0] as Method;

interface CallOptions {
  /** The Authorization header's credential (Bearer); none when undefined. */
  credential?: string | undefined;
  /** Send the other method than the document's (a 405). */
  method?: Method;
  /** The raw body or ?input= text instead of JSON.stringify(input). */
  raw?: string;
  /** A POST's Content-Type (default application/json). */
  contentType?: string;
}

let h: Harness;
let server: RunningHttpServer;
const extraServers: RunningHttpServer[] = [];

async function send(base: string, procedure: string, input: unknown, options: CallOptions = {}): Promise<Answer> {
  const method = options.method ?? methodOf(procedure);
  const text = options.raw ?? (input === undefined ? undefined : JSON.stringify(input));
  const headers: Record<string, string> = {};
  if (options.credential !== undefined) headers.authorization = `Bearer ${options.credential}`;
  let url = `${base}/trpc/${procedure}`;
  let body: string | undefined;
  if (method === "get") {
    if (text !== undefined) url += `?input=${encodeURIComponent(text)}`;
  } else {
    headers["content-type"] = options.contentType ?? "application/json";
    body = text;
  }
  const response = await fetch(url, { method: method.toUpperCase(), headers, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/**
 * Calls `procedure` on `base` and checks the answer against the document for the path and the
 * method actually sent; returns the status and parsed body for the test's own assertions.
 */
async function call(procedure: string, input: unknown, options: CallOptions = {}, base = server.url) {
  const answer = await send(base, procedure, input, options);
  const method = (options.method ?? methodOf(procedure)).toUpperCase();
  expect(
    contract.problemsOfRequest(method, new URL(`${base}/trpc/${procedure}`), answer),
    `${method} ${procedure}`,
  ).toEqual([]);
  return { status: answer.status, body: JSON.parse(answer.text) as any, headers: answer.headers };
}

async function startExtraServer(options: Partial<HttpServerOptions>, deps = h.deps): Promise<RunningHttpServer> {
  const extra = await startHttpServer({ deps, port: 0, host: "127.0.0.1", ...options });
  extraServers.push(extra);
  return extra;
}

beforeAll(async () => {
  h = await createHarness();
  server = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  for (const extra of [server, ...extraServers]) await extra.close(500);
  await h.close();
});

describe("happy paths", () => {
  it("session tokens: create, verify, list every page, revoke, revoke for a customer", async () => {
    const key = h.testKey.secretKey;
    const plain = await call("sessionTokens.create", { externalUserId: "user_1" }, { credential: key });
    expect(plain.status).toBe(200);
    const full = await call(
      "sessionTokens.create",
      {
        externalUserId: "user_1",
        email: null,
        externalOrganizationId: "org_9",
        expiresIn: 600,
        allowedOperations: ["session:read"],
        metadata: { ip: "203.0.113.9", nested: { list: [1, "two", null, true] } },
      },
      { credential: key },
    );
    expect(full.body.result.data.sessionToken).toMatch(/^bos_session_test_/);

    const valid = await call(
      "sessionTokens.verify",
      { sessionToken: full.body.result.data.sessionToken },
      { credential: key },
    );
    expect(valid.body.result.data).toMatchObject({ valid: true, metadata: { ip: "203.0.113.9" } });
    const outOfScope = await call(
      "sessionTokens.verify",
      { sessionToken: full.body.result.data.sessionToken, operation: "customer:read" },
      { credential: key },
    );
    expect(outOfScope.body.result.data).toEqual({ valid: false, reason: "operation_not_allowed" });
    const malformed = await call(
      "sessionTokens.verify",
      { sessionToken: "bos_session_test_nope" },
      { credential: key },
    );
    expect(malformed.body.result.data).toEqual({ valid: false, reason: "malformed" });

    const first = await call("sessionTokens.list", { externalUserId: "user_1", limit: 1 }, { credential: key });
    expect(first.body.result.data.data).toHaveLength(1);
    const second = await call(
      "sessionTokens.list",
      { externalUserId: "user_1", limit: 1, cursor: first.body.result.data.nextCursor },
      { credential: key },
    );
    expect(second.body.result.data.data).toHaveLength(1);

    const revoked = await call(
      "sessionTokens.revoke",
      { tokenId: plain.body.result.data.tokenId },
      { credential: key },
    );
    const again = await call(
      "sessionTokens.revoke",
      { sessionToken: plain.body.result.data.sessionToken },
      { credential: key },
    );
    expect(again.body.result.data.revokedAt).toBe(revoked.body.result.data.revokedAt);

    const all = await call("sessionTokens.list", { externalUserId: "user_1", status: "all" }, { credential: key });
    expect(all.body.result.data.data.map((token: { status: string }) => token.status).sort()).toEqual([
      "active",
      "revoked",
    ]);
    const forCustomer = await call(
      "sessionTokens.revokeForCustomer",
      { externalOrganizationId: "org_9" },
      { credential: key },
    );
    expect(forCustomer.body.result.data.revokedCount).toBe(1);
  });

  it("customers: import, list unresolved, bind, get, unbind, audit trail", async () => {
    const key = h.testKey.secretKey;
    const imported = await call(
      "customers.import",
      {
        customers: [
          {
            stripeCustomerId: "cus_Contract1",
            email: "ada@example.com",
            name: "Ada",
            createdAt: "2025-01-01T00:00:00.000Z",
          },
          { stripeCustomerId: "cus_Contract2", email: null, metadata: { user_id: "user_pre" } },
          { stripeCustomerId: "cus_Contract3" },
        ],
      },
      { credential: key },
    );
    expect(imported.body.result.data).toMatchObject({ created: 3, preBound: 1 });
    const dryRun = await call(
      "customers.import",
      { customers: [{ stripeCustomerId: "cus_Contract4" }], dryRun: true },
      { credential: key },
    );
    expect(dryRun.body.result.data.dryRun).toBe(true);

    const unresolved = await call("customers.listUnresolved", { limit: 1 }, { credential: key });
    expect(unresolved.body.result.data.data).toHaveLength(1);
    await call("customers.listUnresolved", { reason: "no_email" }, { credential: key });
    // No input at all: every parameter of listUnresolved is optional.
    await call("customers.listUnresolved", undefined, { credential: key });

    // Creating a token for a user while customers await a bind answers unresolvedCustomers.
    const created = await call("sessionTokens.create", { externalUserId: "user_c" }, { credential: key });
    expect(created.body.result.data.unresolvedCustomers).toBeGreaterThan(0);

    const bound = await call(
      "customers.bind",
      { stripeCustomerId: "cus_Contract3", externalUserId: "user_bound" },
      { credential: key },
    );
    expect(bound.body.result.data).toMatchObject({ externalUserId: "user_bound", boundBy: "manual" });
    await call("customers.get", { externalUserId: "user_bound" }, { credential: key });
    await call("customers.get", { stripeCustomerId: "cus_Contract1" }, { credential: key });
    const trail = await call("audit.listForCustomer", { externalUserId: "user_bound" }, { credential: key });
    expect(trail.body.result.data.data.map((event: { action: string }) => event.action)).toContain("customer.bound");
    const unbound = await call("customers.unbind", { stripeCustomerId: "cus_Contract3" }, { credential: key });
    expect(unbound.body.result.data.externalUserId).toBeNull();
  });

  it("customer-facing: session.get, session.customer (with its Stripe customer), session.signOut", async () => {
    const key = h.testKey.secretKey;
    await call(
      "customers.import",
      { customers: [{ stripeCustomerId: "cus_Facing1", email: "facing@example.com", name: "F" }] },
      { credential: key },
    );
    const created = await call(
      "sessionTokens.create",
      { externalUserId: "user_facing", email: "facing@example.com" },
      { credential: key },
    );
    const token = created.body.result.data.sessionToken as string;

    const session = await call("session.get", undefined, { credential: token });
    expect(session.body.result.data.operations).toEqual(["customer:read", "session:read", "session:revoke"]);
    await call("session.get", {}, { credential: token });
    const customer = await call("session.customer", undefined, { credential: token });
    expect(customer.body.result.data.stripeCustomer).toMatchObject({ stripeCustomerId: "cus_Facing1" });
    const signedOut = await call("session.signOut", undefined, { credential: token });
    expect(signedOut.status).toBe(200);
    // Signed out: the same token is now refused.
    expect((await call("session.get", undefined, { credential: token })).status).toBe(401);
  });
});

describe("error paths", () => {
  let sessionToken: string;
  let readOnlyToken: string;
  beforeAll(async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    sessionToken = (await api.create({ externalUserId: "user_errors" })).sessionToken;
    readOnlyToken = (await api.create({ externalUserId: "user_errors", allowedOperations: ["session:read"] }))
      .sessionToken;
  });
  const credentialFor = (procedure: string) => (procedure.startsWith("session.") ? sessionToken : h.testKey.secretKey);

  it.each(procedures)(
    "%s: 400 for an unknown field, 401 without a credential, 405 with the other method",
    async (procedure) => {
      const unknownField = await call(procedure, { bogusField: 1 }, { credential: credentialFor(procedure) });
      expect(unknownField.status).toBe(400);
      expect(unknownField.body.error.data.fieldErrors).toHaveProperty("bogusField");

      const anonymous = await call(procedure, {}, {});
      expect(anonymous.status).toBe(401);
      const wrongKind = await call(
        procedure,
        {},
        { credential: procedure.startsWith("session.") ? h.testKey.secretKey : sessionToken },
      );
      expect(wrongKind.status).toBe(401);

      const otherMethod = await call(
        procedure,
        {},
        { credential: credentialFor(procedure), method: methodOf(procedure) === "get" ? "post" : "get" },
      );
      expect(otherMethod.status).toBe(405);
    },
  );

  it("400 for input that is not JSON, in a body and in ?input=, and for a missing required input", async () => {
    const key = h.testKey.secretKey;
    expect(
      (await call("sessionTokens.create", undefined, { credential: key, raw: "{not json" })).body.error.message,
    ).toBe("Input is not valid JSON");
    expect((await call("sessionTokens.list", undefined, { credential: key, raw: "{not json" })).status).toBe(400);
    expect((await call("sessionTokens.list", undefined, { credential: key })).status).toBe(400);
    expect((await call("sessionTokens.create", undefined, { credential: key })).status).toBe(400);
    const both = await call("sessionTokens.revoke", {}, { credential: key });
    expect(both.body.error.data.formErrors).toEqual(["Give exactly one of tokenId or sessionToken"]);
    const range = await call(
      "sessionTokens.create",
      { externalUserId: "u", expiresIn: 5, allowedOperations: ["nope"] },
      { credential: key },
    );
    expect(Object.keys(range.body.error.data.fieldErrors).sort()).toEqual(["allowedOperations.0", "expiresIn"]);
  });

  it("415 for a POST whose body is not declared JSON", async () => {
    const form = await call(
      "sessionTokens.create",
      { externalUserId: "u" },
      { credential: h.testKey.secretKey, contentType: "application/x-www-form-urlencoded" },
    );
    expect(form.status).toBe(415);
    expect(form.body.error.data.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    // The JSON envelope says so (the stock adapter labelled it text/plain).
    expect(form.headers.get("content-type")).toBe("application/json");
    expect((await call("session.signOut", {}, { credential: sessionToken, contentType: "text/plain" })).status).toBe(
      415,
    );
  });

  it("403 for a session token not scoped to the procedure's operation", async () => {
    const refused = await call("session.customer", undefined, { credential: readOnlyToken });
    expect(refused.status).toBe(403);
    expect((await call("session.signOut", undefined, { credential: readOnlyToken })).status).toBe(403);
  });

  it("404 for a token or customer that does not exist", async () => {
    const key = h.testKey.secretKey;
    expect(
      (await call("sessionTokens.revoke", { tokenId: "tok_00000000000000000000000000" }, { credential: key })).status,
    ).toBe(404);
    expect((await call("customers.get", { stripeCustomerId: "cus_Missing" }, { credential: key })).status).toBe(404);
    expect(
      (await call("customers.bind", { stripeCustomerId: "cus_Missing", externalUserId: "u" }, { credential: key }))
        .status,
    ).toBe(404);
    expect((await call("customers.unbind", { stripeCustomerId: "cus_Missing" }, { credential: key })).status).toBe(404);
  });

  it("409 for a bind that conflicts with another binding", async () => {
    const key = h.testKey.secretKey;
    await call(
      "customers.import",
      { customers: [{ stripeCustomerId: "cus_Taken1" }, { stripeCustomerId: "cus_Taken2" }] },
      { credential: key },
    );
    await call("customers.bind", { stripeCustomerId: "cus_Taken1", externalUserId: "user_taken" }, { credential: key });
    const conflict = await call(
      "customers.bind",
      { stripeCustomerId: "cus_Taken1", externalUserId: "user_other" },
      { credential: key },
    );
    expect(conflict.status).toBe(409);
    expect(
      (
        await call(
          "customers.bind",
          { stripeCustomerId: "cus_Taken2", externalUserId: "user_taken" },
          { credential: key },
        )
      ).status,
    ).toBe(409);
  });

  it("413 for a body over the limit", async () => {
    const tooBig = await call("session.signOut", { padding: "x".repeat(2_000) }, { credential: sessionToken });
    expect(tooBig.status).toBe(413);
    const small = await startExtraServer({ maxBodyBytes: 200 });
    const merchant = await call(
      "sessionTokens.create",
      { externalUserId: "u", metadata: { pad: "x".repeat(400) } },
      { credential: h.testKey.secretKey },
      small.url,
    );
    expect(merchant.status).toBe(413);
  });

  it("429 with Retry-After for a rate limit and for an organization's share of bodies", async () => {
    const limited = await startExtraServer(
      {},
      {
        ...h.deps,
        createRateLimiter: new MemoryRateLimiter(1, h.clock),
        writeRateLimiter: new MemoryRateLimiter(1, h.clock),
      },
    );
    const key = h.testKey.secretKey;
    expect((await call("sessionTokens.create", { externalUserId: "u" }, { credential: key }, limited.url)).status).toBe(
      200,
    );
    const refused = await call("sessionTokens.create", { externalUserId: "u" }, { credential: key }, limited.url);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBe(refused.body.error.data.retryAfterSeconds);
    await call("sessionTokens.revokeForCustomer", { externalUserId: "u" }, { credential: key }, limited.url);
    expect(
      (await call("sessionTokens.revokeForCustomer", { externalUserId: "u" }, { credential: key }, limited.url)).status,
    ).toBe(429);

    const narrow = await startExtraServer({ maxBufferedBodyBytes: 10_000, maxBufferedBodyBytesPerTenant: 20 });
    const share = await call(
      "sessionTokens.create",
      { externalUserId: "user_with_a_long_id" },
      { credential: key },
      narrow.url,
    );
    expect(share.status).toBe(429);
    expect(share.headers.get("retry-after")).toBe("1");
  });

  it("503 with Retry-After when the server is receiving too many bodies at once", async () => {
    const busy = await startExtraServer({ maxBufferedBodyBytes: 20, maxBufferedBodyBytesPerTenant: 10_000 });
    const refused = await call(
      "sessionTokens.create",
      { externalUserId: "user_with_a_long_id" },
      { credential: h.testKey.secretKey },
      busy.url,
    );
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.body.error.data).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryAfterSeconds: 1 });
  });
});

describe("the service paths", () => {
  it("GET /health and GET /openapi.json answer as documented", async () => {
    for (const path of ["/health", "/openapi.json"]) {
      const response = await fetch(`${server.url}${path}`);
      const answer = { status: response.status, headers: response.headers, text: await response.text() };
      expect(contract.problems(path, "get", answer)).toEqual([]);
    }
  });
});

describe("the checker itself", () => {
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
    status,
    headers: new Headers({ "content-type": "application/json", ...headers }),
    text: JSON.stringify(body),
  });
  const created = {
    tokenId: "tok_0123456789abcdefghjkmnpqrs",
    sessionToken: "bos_session_test_x",
    expiresAt: "2026-01-01T13:00:00.000Z",
  };
  const tooMany = {
    error: {
      message: "Too many",
      code: -32029,
      data: { code: "TOO_MANY_REQUESTS", httpStatus: 429, retryAfterSeconds: 3 },
    },
  };
  const path = "/trpc/sessionTokens.create";

  it("accepts a documented answer", () => {
    expect(contract.problems(path, "post", answer(200, { result: { data: created } }))).toEqual([]);
    expect(contract.problems(path, "post", answer(429, tooMany, { "retry-after": "3" }))).toEqual([]);
  });

  it("refuses an answer the document does not describe", () => {
    const [missingField] = contract.problems(
      path,
      "post",
      answer(200, { result: { data: { ...created, expiresAt: undefined } } }),
    );
    expect(missingField).toMatch(/does not validate/);
    expect(contract.problems(path, "post", answer(200, { result: { data: { ...created, extra: 1 } } }))).toHaveLength(
      1,
    );
    expect(
      contract.problems(path, "post", answer(200, { result: { data: { ...created, expiresAt: "tomorrow" } } })),
    ).toHaveLength(1);
    expect(contract.problems(path, "post", answer(200, created))).toHaveLength(1);
    expect(contract.problems(path, "post", answer(404, tooMany))[0]).toMatch(/does not document status 404/);
    expect(contract.problems(path, "post", answer(429, tooMany))).toEqual(["header Retry-After is missing"]);
    const wrongCode = { error: { ...tooMany.error, data: { ...tooMany.error.data, code: "CONFLICT" } } };
    expect(contract.problems(path, "post", answer(429, wrongCode, { "retry-after": "3" }))).toHaveLength(1);
    expect(contract.problems("/trpc/sessionTokens.create", "get", answer(200, {}))[0]).toMatch(/has no GET/);
  });
});

describe("coverage", () => {
  it("checked a 200 for every procedure and each documented error status somewhere", () => {
    for (const procedure of procedures) expect(contract.seen, procedure).toContain(`/trpc/${procedure} 200`);
    const statuses = new Set([...contract.seen].map((entry) => entry.split(" ")[1]));
    for (const status of ["400", "401", "403", "404", "405", "409", "413", "415", "429", "503"])
      expect(statuses, status).toContain(status);
  });
});
