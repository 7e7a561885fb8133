import { formatToken, SESSION_TOKEN_PREFIXES } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { revokeApiKey } from "../../src/api-keys/api-keys.service.js";
import { randomSecretBody } from "../../src/shared/secrets.js";
import { createHarness, type Harness, rejectionOf, withCharChanged } from "../harness.js";
import { callerWithAuthorization, capturingLogger, expectBareUnauthorized, sessionCaller } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const merchant = (secretKey = h.testKey.secretKey) => h.caller(secretKey).sessionTokens;

/** Every session procedure, called with one token: each must refuse it alike. */
const everySessionCall = (token: string | undefined, environments?: readonly ("test" | "live")[]) => {
  const options = environments === undefined ? {} : { environments };
  return [
    () => sessionCaller(h, token, options).session.get(),
    () => sessionCaller(h, token, options).session.customer(),
    () => sessionCaller(h, token, options).session.signOut(),
  ];
};

describe("session.* refuses bad tokens with a bare UNAUTHORIZED (SPEC §3, §4)", () => {
  it("an expired token: valid 1 ms before expiresAt, refused from expiresAt on", async () => {
    const created = await merchant().create({ externalUserId: "user_1", expiresIn: 60 });
    const expiresAt = Date.parse(created.expiresAt);
    h.clock.set(expiresAt - 1);
    expect((await sessionCaller(h, created.sessionToken).session.get()).tokenId).toBe(created.tokenId);
    h.clock.set(expiresAt);
    // Refused: now >= expiresAt, so the token has expired.
    for (const call of everySessionCall(created.sessionToken)) await expectBareUnauthorized(call());
    h.clock.advance(3_600_000);
    // Refused: still expired an hour later.
    await expectBareUnauthorized(sessionCaller(h, created.sessionToken).session.get());
  });

  it("a revoked token", async () => {
    const created = await merchant().create({ externalUserId: "user_1" });
    await merchant().revoke({ tokenId: created.tokenId });
    // Refused: the merchant revoked it.
    for (const call of everySessionCall(created.sessionToken)) await expectBareUnauthorized(call());
  });

  it("a tampered token (one character changed anywhere)", async () => {
    const { sessionToken } = await merchant().create({ externalUserId: "user_1" });
    const bodyStart = SESSION_TOKEN_PREFIXES.test.length;
    const positions = [bodyStart, bodyStart + 21, sessionToken.length - 7, sessionToken.length - 1];
    for (const index of positions) {
      const tampered = withCharChanged(sessionToken, index);
      expect(tampered).not.toBe(sessionToken);
      // Refused: the changed character breaks the checksum (or names a token that was never issued).
      await expectBareUnauthorized(sessionCaller(h, tampered).session.get());
    }
    // The original still works: the refusals above were about the tampering.
    expect((await sessionCaller(h, sessionToken).session.get()).environment).toBe("test");
  });

  it("a well-formed token that was never issued", async () => {
    const forged = formatToken("sessionToken", "test", randomSecretBody());
    // Refused: the checksum is right but no such token exists.
    for (const call of everySessionCall(forged)) await expectBareUnauthorized(call());
  });

  it("malformed values: truncated, extended, wrong prefix, junk, empty", async () => {
    const { sessionToken } = await merchant().create({ externalUserId: "user_1" });
    const malformed = [
      sessionToken.slice(0, -1), // truncated by one
      `${sessionToken}A`, // one character too many
      sessionToken.replace("bos_session_test_", "bos_session_prod_"), // unknown environment
      sessionToken.replace("bos_session_", "bos_sessoin_"), // misspelt prefix
      "not-a-token",
      "",
    ];
    for (const candidate of malformed) {
      // Refused: not a well-formed session token, rejected before any database read.
      await expectBareUnauthorized(sessionCaller(h, candidate).session.get());
    }
  });

  it("a missing or non-Bearer Authorization header", async () => {
    const { sessionToken } = await merchant().create({ externalUserId: "user_1" });
    // Refused: no Authorization header at all.
    for (const call of everySessionCall(undefined)) await expectBareUnauthorized(call());
    const withHeader = (authorization: string) => callerWithAuthorization(h, authorization).session.get();
    // Refused: the token is sent without the Bearer scheme.
    await expectBareUnauthorized(withHeader(sessionToken));
    // Refused: Basic is not Bearer.
    await expectBareUnauthorized(withHeader(`Basic ${sessionToken}`));
    // Refused: "Bearer" with nothing after it.
    await expectBareUnauthorized(withHeader("Bearer "));
    // Accepted: the scheme is case-insensitive (RFC 7235), which shows the refusals above were about the header.
    expect((await withHeader(`bearer ${sessionToken}`)).environment).toBe("test");
  });

  it("a live token at a deployment that serves only test (a sandbox)", async () => {
    const live = await merchant(h.liveKey.secretKey).create({ externalUserId: "user_1" });
    // Served everywhere, the live token works: the refusal below is about the environment alone.
    expect((await sessionCaller(h, live.sessionToken).session.get()).environment).toBe("live");
    // Refused: a sandbox serves only test tokens.
    for (const call of everySessionCall(live.sessionToken, ["test"])) await expectBareUnauthorized(call());
  });

  it("a test token at a deployment that serves only live (production)", async () => {
    const test = await merchant().create({ externalUserId: "user_1" });
    // Refused: production serves only live tokens.
    await expectBareUnauthorized(sessionCaller(h, test.sessionToken, { environments: ["live"] }).session.get());
    expect((await sessionCaller(h, test.sessionToken, { environments: ["test"] }).session.get()).environment).toBe(
      "test",
    );
  });

  it("a secret key sent as a session token", async () => {
    // Refused: sk_test_… is a merchant credential, not a session token; it must not open the browser API.
    for (const call of everySessionCall(h.testKey.secretKey)) await expectBareUnauthorized(call());
    // Refused: same for a live secret key.
    await expectBareUnauthorized(sessionCaller(h, h.liveKey.secretKey).session.customer());
  });

  it("a session token sent to a secret-key procedure", async () => {
    const { sessionToken } = await merchant().create({ externalUserId: "user_1" });
    // Refused: the merchant API takes only secret keys, never the browser's session token.
    const create = await rejectionOf(h.caller(sessionToken).sessionTokens.create({ externalUserId: "user_2" }));
    expect(create.error.code).toBe("UNAUTHORIZED");
    // Refused: nor may a session token list tokens, revoke, verify or import customers.
    for (const call of [
      () => h.caller(sessionToken).sessionTokens.list({ externalUserId: "user_1" }),
      () => h.caller(sessionToken).sessionTokens.verify({ sessionToken }),
      () => h.caller(sessionToken).sessionTokens.revokeForCustomer({ externalUserId: "user_1" }),
      () => h.caller(sessionToken).customers.import({ customers: [{ stripeCustomerId: "cus_x" }] }),
    ]) {
      expect((await rejectionOf(call())).error.code).toBe("UNAUTHORIZED");
    }
    expect((await merchant().list({ externalUserId: "user_2" })).data).toEqual([]);
  });

  it("a token whose secret key has been revoked", async () => {
    const { sessionToken } = await merchant().create({ externalUserId: "user_1" });
    await revokeApiKey(h.store, h.clock, h.testKey.id);
    // Refused: revoking a secret key revokes every token it created.
    await expectBareUnauthorized(sessionCaller(h, sessionToken).session.get());
  });

  it("every reason looks the same to the browser: identical code, message and data", async () => {
    const expired = await merchant().create({ externalUserId: "user_1", expiresIn: 60 });
    const revoked = await merchant().create({ externalUserId: "user_1" });
    const live = await merchant(h.liveKey.secretKey).create({ externalUserId: "user_1" });
    await merchant().revoke({ tokenId: revoked.tokenId });
    h.clock.advance(60_000);
    const refusals = [
      await expectBareUnauthorized(sessionCaller(h, expired.sessionToken).session.get()),
      await expectBareUnauthorized(sessionCaller(h, revoked.sessionToken).session.get()),
      await expectBareUnauthorized(sessionCaller(h, live.sessionToken, { environments: ["test"] }).session.get()),
      await expectBareUnauthorized(sessionCaller(h, withCharChanged(revoked.sessionToken, 30)).session.get()),
      await expectBareUnauthorized(
        sessionCaller(h, formatToken("sessionToken", "test", randomSecretBody())).session.get(),
      ),
      await expectBareUnauthorized(sessionCaller(h, undefined).session.get()),
      await expectBareUnauthorized(sessionCaller(h, h.testKey.secretKey).session.get()),
    ];
    const seen = refusals.map(({ message, data }) => JSON.stringify({ message, data }));
    expect(new Set(seen).size).toBe(1);
  });

  it("the server logs the reason (without the token) while the caller gets none", async () => {
    const capture = capturingLogger();
    const created = await merchant().create({ externalUserId: "user_1", expiresIn: 60 });
    const revoked = await merchant().create({ externalUserId: "user_1" });
    await merchant().revoke({ tokenId: revoked.tokenId });
    h.clock.advance(60_000);
    const logged = (token: string) => sessionCaller(h, token, { deps: { logger: capture.logger } });
    // Refused: expired.
    await expectBareUnauthorized(logged(created.sessionToken).session.get());
    // Refused: revoked.
    await expectBareUnauthorized(logged(revoked.sessionToken).session.customer());
    const reasons = capture.records().map((record) => [record.path, record.reason]);
    expect(reasons).toEqual([
      ["session.get", "expired"],
      ["session.customer", "revoked"],
    ]);
    for (const line of capture.lines) {
      expect(line).not.toContain(created.sessionToken);
      expect(line).not.toContain(revoked.sessionToken);
    }
  });
});
