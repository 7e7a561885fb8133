import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { createHarness, type Harness } from "../harness.js";
import { send } from "./http-client.js";

// Metadata over the real wire: what is stored comes back exactly, whatever an older version
// stored, and a server fault never answers with its own text. Both HTTP paths (the fast handler
// and tRPC's stock adapter) are checked.

const HANDLERS = ["fast", "stock"] as const;

let h: Harness;
let server: RunningHttpServer;

afterEach(async () => {
  await server.close(1_000);
  await h.close();
});

/** A POST with a raw JSON text as body (so "__proto__" and escapes travel exactly as written). */
function post(procedure: string, body: string) {
  return send(server.port, {
    method: "POST",
    path: `/trpc/${procedure}`,
    headers: { authorization: `Bearer ${h.testKey.secretKey}`, "content-type": "application/json" },
    body,
  });
}

function get(procedure: string, input: unknown) {
  return send(server.port, {
    path: `/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`,
    headers: { authorization: `Bearer ${h.testKey.secretKey}` },
  });
}

/** `[[[…1…]]]` nested `depth` levels, as JSON text. */
const nestedArrays = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;

describe.each(HANDLERS)("metadata over HTTP (%s handler)", (handler) => {
  beforeEach(async () => {
    h = await createHarness();
    server = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1", handler });
  });

  it("__proto__ and constructor keys sent as raw JSON come back identical from create, verify and list", async () => {
    const metadata =
      '{"__proto__":{"a":1},"constructor":"x","nested":{"__proto__":[1,{"constructor":{"prototype":2}}]}}';
    const created = await post("sessionTokens.create", `{"externalUserId":"user_proto","metadata":${metadata}}`);
    expect(created.status, created.body).toBe(200);
    const { sessionToken } = JSON.parse(created.body).result.data as { sessionToken: string };

    // Stored as sent: the row's JSON text is the text that was sent.
    const row = await h.store.kysely.selectFrom("session_tokens").select("metadata").executeTakeFirstOrThrow();
    expect(row.metadata).toBe(metadata);

    const verified = await post("sessionTokens.verify", JSON.stringify({ sessionToken }));
    const listed = await get("sessionTokens.list", { externalUserId: "user_proto" });
    expect(verified.status, verified.body).toBe(200);
    expect(listed.status, listed.body).toBe(200);
    // JSON.parse makes "__proto__" an own property, and JSON.stringify writes own properties back.
    expect(JSON.stringify(JSON.parse(verified.body).result.data.metadata)).toBe(metadata);
    expect(JSON.stringify(JSON.parse(listed.body).result.data.data[0].metadata)).toBe(metadata);
  });

  it("Stripe metadata keys __proto__ and constructor sent as raw JSON are imported and answered as sent", async () => {
    const metadata = '{"__proto__":"p","constructor":"c","user_id":"u1"}';
    const imported = await post(
      "customers.import",
      `{"customers":[{"stripeCustomerId":"cus_P1","metadata":${metadata}}]}`,
    );
    expect(imported.status, imported.body).toBe(200);
    const fetched = await get("customers.get", { stripeCustomerId: "cus_P1" });
    expect(fetched.status, fetched.body).toBe(200);
    expect(JSON.stringify(JSON.parse(fetched.body).result.data.metadata)).toBe(metadata);
  });

  it("a row an older version stored with metadata nested 2,500 levels is listed and verified with 200, intact", async () => {
    // Older versions accepted metadata up to ~1,300 (objects) or ~2,200 (arrays) levels before
    // zod's recursion gave out; answers recursed too, so listing such a customer was a 500.
    const created = await post("sessionTokens.create", '{"externalUserId":"user_old","metadata":{"ip":"203.0.113.9"}}');
    const { sessionToken } = JSON.parse(created.body).result.data as { sessionToken: string };
    const stored = `{"ip":"203.0.113.9","deep":${nestedArrays(2_500)}}`;
    await sql`update session_tokens set metadata = ${stored}`.execute(h.store.kysely);

    const listed = await get("sessionTokens.list", { externalUserId: "user_old" });
    const verified = await post("sessionTokens.verify", JSON.stringify({ sessionToken }));
    expect(listed.status, listed.body.slice(0, 300)).toBe(200);
    expect(verified.status, verified.body.slice(0, 300)).toBe(200);
    expect(JSON.stringify(JSON.parse(listed.body).result.data.data[0].metadata)).toBe(stored);
    expect(JSON.stringify(JSON.parse(verified.body).result.data.metadata)).toBe(stored);
  });

  it("a fault of the server answers 500 with a generic message, not the fault's own text", async () => {
    // A table gone from under the service: the SQL error names it; the caller must not read that.
    await sql`drop table session_tokens`.execute(h.store.kysely);
    const answer = await get("sessionTokens.list", { externalUserId: "u" });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body).error).toMatchObject({
      message: "Internal server error",
      data: { code: "INTERNAL_SERVER_ERROR" },
    });
    expect(answer.body).not.toMatch(/session_tokens|no such table|SQLITE/i);
  });

  it("a body that is not JSON gets 400 with a message that does not quote it", async () => {
    const answer = await post("sessionTokens.verify", '{"sessionToken": bos_session_test_notquotedxyz}');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.message).toBe("Input is not valid JSON");
    expect(answer.body).not.toContain("bos_session");
  });
});
