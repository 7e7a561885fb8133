import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { countSessionTokens, createHarness, type Harness } from "../harness.js";

// The Idempotency-Key header over real HTTP, on both handlers: what the wire answers a retry.

const HANDLERS = ["fast", "stock"] as const;

let h: Harness;
let server: RunningHttpServer;

afterEach(async () => {
  await server.close(500);
  await h.close();
});

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.url}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${h.testKey.secretKey}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

/** A POST carrying the Idempotency-Key header twice (fetch would merge them into one line). */
function postWithTwoKeys(
  path: string,
  body: unknown,
  keys: [string, string],
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/trpc/${path}`, { method: "POST" }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.setHeader("content-type", "application/json");
    req.setHeader("authorization", `Bearer ${h.testKey.secretKey}`);
    req.setHeader("idempotency-key", keys);
    req.end(JSON.stringify(body));
  });
}

describe.each(HANDLERS)("the %s handler", (handler) => {
  async function start() {
    h = await createHarness();
    server = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1", handler });
  }

  it("answers a retry with the first answer's status and bytes, and creates one token", async () => {
    await start();
    const first = await post("sessionTokens.create", { externalUserId: "user_1" }, { "idempotency-key": "http-1" });
    h.clock.advance(1_000);
    const retry = await post("sessionTokens.create", { externalUserId: "user_1" }, { "idempotency-key": "http-1" });
    expect(first.status).toBe(200);
    expect(retry).toEqual(first);
    expect(await countSessionTokens(h.store)).toBe(1);
  });

  it("answers another body under the key with 409", async () => {
    await start();
    await post("sessionTokens.create", { externalUserId: "user_1" }, { "idempotency-key": "http-2" });
    const other = await post("sessionTokens.create", { externalUserId: "user_2" }, { "idempotency-key": "http-2" });
    expect(other.status).toBe(409);
    expect(JSON.parse(other.text).error.message).toMatch(/already used for a different request/);
    expect(await countSessionTokens(h.store)).toBe(1);
  });

  it("refuses the header sent twice with 400 (node would join both into one key that looks valid)", async () => {
    await start();
    const refused = await postWithTwoKeys("sessionTokens.create", { externalUserId: "user_1" }, ["k1", "k2"]);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text).error.message).toMatch(/sent 2 times; send it once/);
    expect(await countSessionTokens(h.store)).toBe(0);
  });

  it("refuses a key too long with 400", async () => {
    await start();
    const refused = await post(
      "sessionTokens.create",
      { externalUserId: "user_1" },
      { "idempotency-key": "k".repeat(256) },
    );
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text).error.message).toMatch(/at most 255/);
    expect(await countSessionTokens(h.store)).toBe(0);
  });

  it("refuses a key on a batch of several calls with 400, running none of them", async () => {
    await start();
    const refused = await post(
      "sessionTokens.create,sessionTokens.create?batch=1",
      { 0: { externalUserId: "user_1" }, 1: { externalUserId: "user_2" } },
      { "idempotency-key": "batch" },
    );
    expect(refused.status).toBe(400);
    const answers = JSON.parse(refused.text) as { error: { message: string } }[];
    expect(answers).toHaveLength(2);
    expect(answers[0]!.error.message).toMatch(/An Idempotency-Key names one call; this batched request carries 2/);
    expect(await countSessionTokens(h.store)).toBe(0);
  });

  it("takes a key on a batch of one call (what tRPC's batch link sends)", async () => {
    await start();
    const body = { 0: { externalUserId: "user_1" } };
    const first = await post("sessionTokens.create?batch=1", body, { "idempotency-key": "one" });
    const retry = await post("sessionTokens.create?batch=1", body, { "idempotency-key": "one" });
    expect(first.status).toBe(200);
    expect(retry).toEqual(first);
    expect(await countSessionTokens(h.store)).toBe(1);
  });

  it("leaves requests without the header as they were: each one does its work", async () => {
    await start();
    await post("sessionTokens.create", { externalUserId: "user_1" }, {});
    await post("sessionTokens.create", { externalUserId: "user_1" }, {});
    expect(await countSessionTokens(h.store)).toBe(2);
  });
});
