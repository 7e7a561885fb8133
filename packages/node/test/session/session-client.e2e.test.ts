import { createLogger, ManualClock, revokeApiKey, startHttpServer, systemClock } from "@billingos/server";
import { afterEach, describe, expect, it } from "vitest";
import { BillingOS, OPERATIONS } from "../../src/index.js";
import { BillingOSError, createSessionClient } from "../../src/session/index.js";
import { NOWHERE } from "../server-harness.js";
import { type BrowserSideServer, REASON_WORDS, rejectionOf, startBrowserSideServer } from "./support.js";

// The session client against a real server on port 0, as a browser would use it.

let s: BrowserSideServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** The rejection is a BillingOSError with this code and status, and its message gives no reason. */
function expectRefusal(error: unknown, code: "UNAUTHORIZED" | "FORBIDDEN", httpStatus: 401 | 403): void {
  expect(error).toBeInstanceOf(BillingOSError);
  const refusal = error as BillingOSError;
  expect({ code: refusal.code, httpStatus: refusal.httpStatus }).toEqual({ code, httpStatus });
  expect(refusal.message).not.toMatch(REASON_WORDS);
  expect(refusal.fieldErrors).toEqual({});
}

describe("session client end to end", () => {
  it("reads the session and the customer, signs out, and is refused afterwards", async () => {
    s = await startBrowserSideServer();
    const created = await s.merchant().createSessionToken({
      externalUserId: "user_1",
      email: "one@example.com",
      externalOrganizationId: "org_1",
      expiresIn: 600,
    });
    const browser = s.browser(created.sessionToken);

    const session = await browser.getSession();
    expect(session).toEqual({
      tokenId: created.tokenId,
      environment: "test",
      expiresAt: created.expiresAt,
      operations: [...OPERATIONS],
    });
    expect(session.expiresAt).toBeInstanceOf(Date);

    expect(await browser.getCustomer()).toEqual({
      externalUserId: "user_1",
      externalOrganizationId: "org_1",
      email: "one@example.com",
      stripeCustomer: null,
    });

    const signedOut = await browser.signOut();
    expect(signedOut.tokenId).toBe(created.tokenId);
    expect(signedOut.revokedAt).toBeInstanceOf(Date);

    // Refused: the token was signed out by the previous call.
    expectRefusal(await rejectionOf(() => browser.getSession()), "UNAUTHORIZED", 401);
    // Refused: same for the customer view.
    expectRefusal(await rejectionOf(() => browser.getCustomer()), "UNAUTHORIZED", 401);
    // Refused: a fresh client with the same token fares no better.
    expectRefusal(await rejectionOf(() => s!.browser(created.sessionToken).getSession()), "UNAUTHORIZED", 401);

    expect(await s.merchant().verifySessionToken(created.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    const listed = await s.merchant().listSessionTokens({ externalUserId: "user_1" });
    expect(listed.data.map((token) => [token.tokenId, token.status])).toEqual([[created.tokenId, "revoked"]]);
  });

  it("FORBIDDEN surfaces as code FORBIDDEN, HTTP 403", async () => {
    s = await startBrowserSideServer();
    const { sessionToken } = await s
      .merchant()
      .createSessionToken({ externalUserId: "user_1", allowedOperations: ["session:read"] });
    const browser = s.browser(sessionToken);
    expect((await browser.getSession()).operations).toEqual(["session:read"]);
    // Refused: customer:read is not among this token's operations.
    expectRefusal(await rejectionOf(() => browser.getCustomer()), "FORBIDDEN", 403);
    // Refused: session:revoke is not among this token's operations.
    expectRefusal(await rejectionOf(() => browser.signOut()), "FORBIDDEN", 403);
    expect(await s.merchant().verifySessionToken(sessionToken)).toMatchObject({ valid: true });
  });

  it("a merchant revoke holds for the very next call", async () => {
    s = await startBrowserSideServer();
    const created = await s.merchant().createSessionToken({ externalUserId: "user_1" });
    const browser = s.browser(created.sessionToken);
    await browser.getSession();
    await s.merchant().revokeSessionToken(created.tokenId);
    // Refused: revoked by the merchant just before.
    expectRefusal(await rejectionOf(() => browser.getSession()), "UNAUTHORIZED", 401);
  });

  it("revoking the secret key refuses the tokens it created", async () => {
    s = await startBrowserSideServer();
    const { sessionToken } = await s.merchant().createSessionToken({ externalUserId: "user_1" });
    await revokeApiKey(s.db, systemClock, s.testKey.id);
    // Refused: its secret key was revoked.
    expectRefusal(await rejectionOf(() => s!.browser(sessionToken).getSession()), "UNAUTHORIZED", 401);
  });

  it("an expired token is refused (clock moved, no sleeping)", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    s = await startBrowserSideServer({ clock });
    const { sessionToken } = await s.merchant().createSessionToken({ externalUserId: "user_1", expiresIn: 60 });
    expect((await s.browser(sessionToken).getSession()).operations).toEqual([...OPERATIONS]);
    clock.advance(60_000);
    // Refused: now == expiresAt.
    expectRefusal(await rejectionOf(() => s!.browser(sessionToken).getSession()), "UNAUTHORIZED", 401);
  });

  it("a live token at a sandbox deployment (serving only test) is refused", async () => {
    s = await startBrowserSideServer({ environments: ["test"] });
    const live = await createLiveToken(s);
    // Refused: this deployment serves only test tokens.
    expectRefusal(await rejectionOf(() => s!.browser(live).getSession()), "UNAUTHORIZED", 401);
  });

  it("shows the Stripe customer bound by email, with Dates, and nothing but its four fields", async () => {
    s = await startBrowserSideServer();
    await s.merchant().importCustomers({
      customers: [
        {
          stripeCustomerId: "cus_Ada1",
          email: "ada@example.com",
          name: "Ada Lovelace",
          metadata: { plan: "pro" },
          createdAt: "2024-03-05T10:20:30.000Z",
        },
      ],
    });
    const { sessionToken } = await s
      .merchant()
      .createSessionToken({ externalUserId: "user_ada", email: "ada@example.com" });
    const customer = await s.browser(sessionToken).getCustomer();
    expect(customer.stripeCustomer).toEqual({
      stripeCustomerId: "cus_Ada1",
      email: "ada@example.com",
      name: "Ada Lovelace",
      createdAt: new Date("2024-03-05T10:20:30.000Z"),
    });
    expect(customer.stripeCustomer).not.toHaveProperty("metadata");
  });

  it("routes by prefix over the network: test tokens reach the sandbox, live tokens go to production", async () => {
    s = await startBrowserSideServer();
    const { sessionToken: test } = await s.merchant().createSessionToken({ externalUserId: "user_1" });
    const live = await createLiveToken(s);
    const onlySandboxUp = { sandboxUrl: s.url, productionUrl: NOWHERE };
    expect((await createSessionClient({ sessionToken: test, ...onlySandboxUp }).getSession()).environment).toBe("test");
    // Fails to connect: the live token was sent to the production URL, where nothing listens.
    const error = await rejectionOf(() => createSessionClient({ sessionToken: live, ...onlySandboxUp }).getSession());
    expect(error).toBeInstanceOf(BillingOSError);
    expect((error as BillingOSError).code).toBe("CONNECTION_FAILED");
    const onlyProductionUp = { sandboxUrl: NOWHERE, productionUrl: s.url };
    expect((await createSessionClient({ sessionToken: live, ...onlyProductionUp }).getSession()).environment).toBe(
      "live",
    );
  });
});

describe("a refused browser gets a bare 401 over HTTP", () => {
  it("the raw JSON body of every 401 is identical and names no reason", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    s = await startBrowserSideServer({ clock, environments: ["test"] });
    const merchant = s.merchant();
    const expired = await merchant.createSessionToken({ externalUserId: "user_1", expiresIn: 60 });
    const revoked = await merchant.createSessionToken({ externalUserId: "user_1" });
    const signedOut = await merchant.createSessionToken({ externalUserId: "user_1" });
    await merchant.revokeSessionToken(revoked.tokenId);
    await s.browser(signedOut.sessionToken).signOut();
    const live = await createLiveToken(s);
    clock.advance(60_000);
    const tampered = `${revoked.sessionToken.slice(0, 30)}${revoked.sessionToken[30] === "A" ? "B" : "A"}${revoked.sessionToken.slice(31)}`;

    const refused: Array<[string, string | undefined]> = [
      ["expired", expired.sessionToken],
      ["revoked", revoked.sessionToken],
      ["signed out", signedOut.sessionToken],
      ["tampered", tampered],
      ["malformed", "bos_session_test_tooShort"],
      ["wrong environment", live],
      ["secret key", s.testKey.secretKey],
      ["missing", undefined],
    ];
    const bodies = new Map<string, string>();
    for (const [what, token] of refused) {
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const response = await fetch(`${s.url}/trpc/session.get`, { headers });
      const body = await response.text();
      // Refused: each of these is not a usable session token; the 401 must not say which way.
      expect(response.status, what).toBe(401);
      expect(body, what).not.toMatch(REASON_WORDS);
      expect(JSON.parse(body), what).toMatchObject({ error: { data: { code: "UNAUTHORIZED", httpStatus: 401 } } });
      bodies.set(what, body);
    }
    expect(new Set(bodies.values()).size).toBe(1);
  });

  it("a POST signOut with a revoked token gets the same bare 401", async () => {
    s = await startBrowserSideServer();
    const created = await s.merchant().createSessionToken({ externalUserId: "user_1" });
    await s.merchant().revokeSessionToken(created.tokenId);
    // Refused: the token is revoked.
    const response = await fetch(`${s.url}/trpc/session.signOut`, {
      method: "POST",
      headers: { authorization: `Bearer ${created.sessionToken}`, "content-type": "application/json" },
    });
    expect(response.status).toBe(401);
    const body = await response.text();
    expect(body).not.toMatch(REASON_WORDS);
    expect(JSON.parse(body)).toMatchObject({ error: { message: "UNAUTHORIZED", data: { code: "UNAUTHORIZED" } } });
  });

  it("a FORBIDDEN 403 does not name the missing operation", async () => {
    s = await startBrowserSideServer();
    const { sessionToken } = await s
      .merchant()
      .createSessionToken({ externalUserId: "user_1", allowedOperations: ["session:read"] });
    // Refused: customer:read is not among this token's operations.
    const response = await fetch(`${s.url}/trpc/session.customer`, {
      headers: { authorization: `Bearer ${sessionToken}` },
    });
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).not.toMatch(/customer:read|session:read|session:revoke/);
    expect(JSON.parse(body)).toMatchObject({ error: { data: { code: "FORBIDDEN", httpStatus: 403 } } });
  });
});

/** A live token for the same server, created through the merchant API even if the server serves only test. */
async function createLiveToken(server: BrowserSideServer): Promise<string> {
  // A sandbox deployment refuses live secret keys, so mint the live token at a second server over the same database.
  const production = await startHttpServer({
    deps: { store: server.db, clock: systemClock, logger: createLogger("silent") },
    port: 0,
    host: "127.0.0.1",
  });
  try {
    const merchant = new BillingOS({
      secretKey: server.liveKey.secretKey,
      sandboxUrl: production.url,
      productionUrl: production.url,
    });
    return (await merchant.createSessionToken({ externalUserId: "user_1" })).sessionToken;
  } finally {
    await production.close(1_000);
  }
}
