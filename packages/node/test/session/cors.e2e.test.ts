import { afterEach, describe, expect, it } from "vitest";
import {
  APP_ORIGIN,
  type BrowserSideServer,
  corsHeadersOf,
  preflight,
  rawRequest,
  startBrowserSideServer,
} from "./support.js";

// CORS over a real HTTP server (issue 4, part 3): only the session.* procedures, only from the
// configured origins; secret-key procedures never answer a browser preflight permissively.

let s: BrowserSideServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const OTHER_ORIGIN = "http://evil.example";

/** The Vary header as a list of lower-cased field names. */
function varyOf(headers: Record<string, string | string[] | undefined>): string[] {
  const raw = headers.vary;
  const joined = Array.isArray(raw) ? raw.join(",") : (raw ?? "");
  return joined
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
}

describe("CORS preflight (OPTIONS)", () => {
  it("answers 204 for session.get from a configured origin, allowing the Authorization header", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    const response = await preflight(s.url, "/trpc/session.get", APP_ORIGIN);
    expect(response.status).toBe(204);
    expect(response.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    const allowHeaders = String(response.headers["access-control-allow-headers"])
      .toLowerCase()
      .split(/\s*,\s*/);
    expect(allowHeaders).toContain("authorization");
    expect(allowHeaders).toContain("content-type");
    expect(String(response.headers["access-control-allow-methods"])).toMatch(/\bPOST\b/);
    expect(varyOf(response.headers)).toContain("origin");
    expect(response.body).toBe("");
  });

  it("answers 204 for every session procedure and for a batch of session procedures only", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    for (const path of [
      "/trpc/session.customer",
      "/trpc/session.signOut",
      "/trpc/session.get,session.customer?batch=1",
    ]) {
      const response = await preflight(s.url, path, APP_ORIGIN, "POST");
      expect(response.status, path).toBe(204);
      expect(response.headers["access-control-allow-origin"], path).toBe(APP_ORIGIN);
    }
  });

  it("refuses the same preflight from an origin that is not configured", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    for (const origin of [OTHER_ORIGIN, "https://app.example", "http://app.example:8080", "null"]) {
      // Refused: the origin is not in corsOrigins (scheme and port count), so no CORS headers at all.
      const response = await preflight(s.url, "/trpc/session.get", origin);
      expect(response.status, origin).toBe(403);
      expect(corsHeadersOf(response), origin).toEqual({});
    }
  });

  it("refuses a preflight with no Origin header", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    // Refused: without an Origin there is no origin to allow.
    const response = await rawRequest(s.url, "/trpc/session.get", { method: "OPTIONS" });
    expect(response.status).toBe(403);
    expect(corsHeadersOf(response)).toEqual({});
  });

  it("refuses a preflight for a secret-key procedure even from the configured origin", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    for (const path of [
      "/trpc/sessionTokens.create",
      "/trpc/sessionTokens.verify",
      "/trpc/sessionTokens.revoke",
      "/trpc/customers.import",
    ]) {
      // Refused: merchant-API procedures take secret keys, which never belong in a browser.
      const response = await preflight(s.url, path, APP_ORIGIN, "POST");
      expect(response.status, path).toBe(403);
      expect(response.headers["access-control-allow-origin"], path).toBeUndefined();
      expect(corsHeadersOf(response), path).toEqual({});
    }
  });

  it("refuses a preflight for a batch that mixes a session procedure with a secret-key one", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    for (const path of [
      "/trpc/session.get,sessionTokens.verify?batch=1",
      "/trpc/sessionTokens.verify,session.get?batch=1",
    ]) {
      // Refused: one secret-key procedure in the batch is enough to withhold CORS from all of it.
      const response = await preflight(s.url, path, APP_ORIGIN);
      expect(response.status, path).toBe(403);
      expect(corsHeadersOf(response), path).toEqual({});
    }
  });

  it("refuses a preflight for a mixed batch whose comma is percent-encoded (%2C), as tRPC decodes it", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    for (const path of [
      "/trpc/session.get%2CsessionTokens.verify?batch=1",
      "/trpc/session.signOut%2csessionTokens.create?batch=1",
    ]) {
      // Refused: after decoding, tRPC runs sessionTokens.* in this batch, so it must not be opened to browsers.
      const response = await preflight(s.url, path, APP_ORIGIN, "POST");
      expect(response.status, path).toBe(403);
      expect(corsHeadersOf(response), path).toEqual({});
    }
  });

  it("with no corsOrigins configured, no preflight gets CORS headers", async () => {
    s = await startBrowserSideServer();
    for (const origin of [APP_ORIGIN, OTHER_ORIGIN, "http://localhost:3000"]) {
      // Refused: CORS is off by default.
      const response = await preflight(s.url, "/trpc/session.get", origin);
      expect(response.status, origin).toBe(403);
      expect(corsHeadersOf(response), origin).toEqual({});
    }
  });
});

describe("CORS on actual requests", () => {
  it("a GET of session.get from the configured origin carries access-control-allow-origin and Vary: Origin", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    const { sessionToken, tokenId } = await s.merchant().createSessionToken({ externalUserId: "user_1" });
    const response = await rawRequest(s.url, "/trpc/session.get", {
      headers: { origin: APP_ORIGIN, authorization: `Bearer ${sessionToken}` },
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ result: { data: { tokenId } } });
    expect(response.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    // The answer depends on Origin, so shared caches must key on it.
    expect(varyOf(response.headers)).toContain("origin");
  });

  it("a refused session call from the configured origin still carries access-control-allow-origin, so the browser can read the 401", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    // Refused: "bos_session_test_nope" is no session token.
    const response = await rawRequest(s.url, "/trpc/session.get", {
      headers: { origin: APP_ORIGIN, authorization: "Bearer bos_session_test_nope" },
    });
    expect(response.status).toBe(401);
    expect(response.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    // and its request id, which the session client puts in BillingOSError.requestId.
    expect(response.headers["access-control-expose-headers"]).toBe("x-request-id");
    expect(response.headers["x-request-id"]).toMatch(/^req_/);
  });

  it("a session call from an origin that is not configured gets no CORS headers", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    const { sessionToken } = await s.merchant().createSessionToken({ externalUserId: "user_1" });
    // Refused (by the browser): no access-control-allow-origin for an unknown origin.
    const response = await rawRequest(s.url, "/trpc/session.get", {
      headers: { origin: OTHER_ORIGIN, authorization: `Bearer ${sessionToken}` },
    });
    expect(corsHeadersOf(response)).toEqual({});
  });

  it("a POST to sessionTokens.create with the configured Origin carries no CORS headers", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    // Refused (by the browser): the merchant API never answers with CORS headers.
    const response = await rawRequest(s.url, "/trpc/sessionTokens.create", {
      method: "POST",
      headers: {
        origin: APP_ORIGIN,
        "content-type": "application/json",
        authorization: `Bearer ${s.testKey.secretKey}`,
      },
      body: JSON.stringify({ externalUserId: "user_1" }),
    });
    expect(response.status).toBe(200);
    expect(corsHeadersOf(response)).toEqual({});
  });

  it("a GET batch mixing session.get and sessionTokens.list carries no CORS headers", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    await s.merchant().createSessionToken({ externalUserId: "user_1" });
    const input = encodeURIComponent(JSON.stringify({ 1: { externalUserId: "user_1" } }));
    const response = await rawRequest(s.url, `/trpc/session.get,sessionTokens.list?batch=1&input=${input}`, {
      headers: { origin: APP_ORIGIN, authorization: `Bearer ${s.testKey.secretKey}` },
    });
    // The batch really ran the merchant's list, which is why the browser must not be allowed to read it.
    expect(response.body).toContain("user_1");
    // Refused (by the browser): the batch includes a secret-key procedure.
    expect(corsHeadersOf(response)).toEqual({});
  });

  it("a POST batch of session.signOut and sessionTokens.create carries no CORS headers", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    const response = await rawRequest(s.url, "/trpc/session.signOut,sessionTokens.create?batch=1", {
      method: "POST",
      headers: {
        origin: APP_ORIGIN,
        "content-type": "application/json",
        authorization: `Bearer ${s.testKey.secretKey}`,
      },
      body: JSON.stringify({ 1: { externalUserId: "user_x" } }),
    });
    // Refused (by the browser): the batch includes a secret-key procedure.
    expect(corsHeadersOf(response)).toEqual({});
  });

  it("a POST batch whose comma is percent-encoded (session.signOut%2CsessionTokens.create) is not a way around CORS", async () => {
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN] });
    const response = await rawRequest(s.url, "/trpc/session.signOut%2CsessionTokens.create?batch=1", {
      method: "POST",
      headers: {
        origin: APP_ORIGIN,
        "content-type": "application/json",
        authorization: `Bearer ${s.testKey.secretKey}`,
      },
      body: JSON.stringify({ 1: { externalUserId: "user_x" } }),
    });
    const created = (await s.merchant().listSessionTokens({ externalUserId: "user_x" })).data.length;
    // Refused is what must happen: tRPC decodes %2C into a batch that creates a token with the secret key,
    // so the server must either not run it or not hand the answer to a browser.
    expect(
      { corsAllowOrigin: response.headers["access-control-allow-origin"] ?? null, tokensCreated: created },
      response.body,
    ).not.toEqual({ corsAllowOrigin: APP_ORIGIN, tokensCreated: 1 });
  });

  it("with no corsOrigins configured, even a valid session call gets no CORS headers", async () => {
    s = await startBrowserSideServer();
    const { sessionToken } = await s.merchant().createSessionToken({ externalUserId: "user_1" });
    const response = await rawRequest(s.url, "/trpc/session.get", {
      headers: { origin: APP_ORIGIN, authorization: `Bearer ${sessionToken}` },
    });
    expect(response.status).toBe(200);
    expect(corsHeadersOf(response)).toEqual({});
  });

  it("several configured origins: each gets its own origin reflected, never a wildcard", async () => {
    const second = "http://localhost:3000";
    s = await startBrowserSideServer({ corsOrigins: [APP_ORIGIN, second] });
    const { sessionToken } = await s.merchant().createSessionToken({ externalUserId: "user_1" });
    for (const origin of [APP_ORIGIN, second]) {
      const response = await rawRequest(s.url, "/trpc/session.get", {
        headers: { origin, authorization: `Bearer ${sessionToken}` },
      });
      expect(response.headers["access-control-allow-origin"], origin).toBe(origin);
    }
  });
});
