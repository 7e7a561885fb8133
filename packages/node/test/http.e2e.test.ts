import { testEngine } from "@billingos/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postTrpc, type ServerHarness, startServerHarness } from "./server-harness.js";

let h: ServerHarness;
beforeAll(async () => {
  h = await startServerHarness();
});
afterAll(() => h.close());

interface TrpcErrorBody {
  error: { message: string; data: { code: string; httpStatus: number } };
}

describe("the HTTP surface", () => {
  it("GET /health answers 200 ok", async () => {
    const response = await fetch(`${h.url}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect(await response.json()).toEqual({ status: "ok", engine: testEngine });
  });

  it("an unknown path is 404 with a hint", async () => {
    const response = await fetch(`${h.url}/nope`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/\/trpc\//);
  });

  it("an unknown procedure is 404", async () => {
    const response = await postTrpc(h.url, "sessionTokens.nope", {}, h.testKey.secretKey);
    expect(response.status).toBe(404);
    expect((response.json as TrpcErrorBody).error.data.code).toBe("NOT_FOUND");
  });

  it("a body over 1 MiB is 413", async () => {
    const body = JSON.stringify({ externalUserId: "u1", metadata: { blob: "x".repeat(1024 * 1024 + 1) } });
    const response = await fetch(`${h.url}/trpc/sessionTokens.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${h.testKey.secretKey}` },
      body,
    });
    expect(response.status).toBe(413);
    const json = (await response.json()) as TrpcErrorBody;
    expect(json.error.data.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("a request without Authorization is 401 with a message saying what to send", async () => {
    const response = await postTrpc(h.url, "sessionTokens.create", { externalUserId: "u1" });
    expect(response.status).toBe(401);
    const { error } = response.json as TrpcErrorBody;
    expect(error.data.code).toBe("UNAUTHORIZED");
    expect(error.message).toMatch(/Authorization: Bearer sk_test_/);
  });

  it("authentication comes before input validation", async () => {
    const response = await postTrpc(h.url, "sessionTokens.create", { externalUserId: "" });
    expect(response.status).toBe(401);
  });

  it("a publishable key or a session token is refused with 401 and a reason", async () => {
    const publishable = await postTrpc(h.url, "sessionTokens.create", { externalUserId: "u1" }, "pk_test_abc");
    expect(publishable.status).toBe(401);
    expect((publishable.json as TrpcErrorBody).error.message).toMatch(/Publishable keys cannot call the merchant API/);

    const created = await h.client(h.testKey.secretKey).createSessionToken({ externalUserId: "u1" });
    const session = await postTrpc(h.url, "sessionTokens.create", { externalUserId: "u1" }, created.sessionToken);
    expect(session.status).toBe(401);
    expect((session.json as TrpcErrorBody).error.message).toMatch(/Session tokens cannot call the merchant API/);
  });

  it("malformed JSON is a 4xx, never a 500", async () => {
    const response = await fetch(`${h.url}/trpc/sessionTokens.create`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${h.testKey.secretKey}` },
      body: "{not json",
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it("a mutation called with GET is refused, not run", async () => {
    const input = encodeURIComponent(JSON.stringify({ externalUserId: "user_via_get" }));
    const response = await fetch(`${h.url}/trpc/sessionTokens.create?input=${input}`, {
      headers: { authorization: `Bearer ${h.testKey.secretKey}` },
    });
    expect(response.status).toBe(405);
    const page = await h.client(h.testKey.secretKey).listSessionTokens({ externalUserId: "user_via_get" });
    expect(page.data).toEqual([]);
  });
});
