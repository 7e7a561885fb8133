import { formatToken, SESSION_TOKEN_PREFIXES } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { randomSecretBody } from "../src/shared/secrets.js";
import { createHarness, type Harness, START_TIME, withCharChanged } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const api = (secretKey: string) => h.caller(secretKey).sessionTokens;

describe("sessionTokens.verify", () => {
  it("answers a valid token with its full payload", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 600 });
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toEqual({
      valid: true,
      tokenId: created.tokenId,
      environment: "test",
      customer: { externalUserId: "user_1", externalOrganizationId: null, email: null },
      allowedOperations: null,
      expiresAt: new Date(START_TIME + 600_000).toISOString(),
      metadata: null,
    });
  });

  it("answers revoked once the token is revoked", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    await api(h.testKey.secretKey).revoke({ tokenId: created.tokenId });
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toEqual({
      valid: false,
      reason: "revoked",
    });
  });

  it("is valid 1 ms before expiresAt and expired at exactly expiresAt", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 60 });
    const expiresAt = Date.parse(created.expiresAt);
    h.clock.set(expiresAt - 1);
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toMatchObject({
      valid: true,
    });
    h.clock.set(expiresAt);
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toEqual({
      valid: false,
      reason: "expired",
    });
  });

  it("answers malformed for a changed character, a truncation, a wrong prefix or junk", async () => {
    const { sessionToken } = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    const bodyStart = SESSION_TOKEN_PREFIXES.test.length;
    const malformed = [
      withCharChanged(sessionToken, bodyStart), // first character of the body
      withCharChanged(sessionToken, bodyStart + 20), // middle of the body
      withCharChanged(sessionToken, sessionToken.length - 1), // last checksum character
      sessionToken.slice(0, -1), // truncated by one
      sessionToken.slice(0, bodyStart + 10), // truncated deep
      `${sessionToken}A`, // one character too many
      sessionToken.replace("bos_session_test_", "bos_session_prod_"), // unknown environment
      sessionToken.replace("bos_session_", "bos_sessoin_"), // misspelt prefix
      `${sessionToken.slice(0, bodyStart + 5)}-${sessionToken.slice(bodyStart + 6)}`, // non-base62 character
      "not a token at all",
    ];
    for (const candidate of malformed) {
      expect(await api(h.testKey.secretKey).verify({ sessionToken: candidate }), candidate).toEqual({
        valid: false,
        reason: "malformed",
      });
    }
  });

  it("answers not_found for a well-formed token that was never issued", async () => {
    const forged = formatToken("sessionToken", "test", randomSecretBody());
    expect(await api(h.testKey.secretKey).verify({ sessionToken: forged })).toEqual({
      valid: false,
      reason: "not_found",
    });
  });

  it("answers wrong_environment for a test token verified by a live key, and the reverse", async () => {
    const testToken = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    const liveToken = await api(h.liveKey.secretKey).create({ externalUserId: "user_1" });
    expect(await api(h.liveKey.secretKey).verify({ sessionToken: testToken.sessionToken })).toEqual({
      valid: false,
      reason: "wrong_environment",
    });
    expect(await api(h.testKey.secretKey).verify({ sessionToken: liveToken.sessionToken })).toEqual({
      valid: false,
      reason: "wrong_environment",
    });
  });

  it("answers not_found for another organization's token, exactly as for an unknown one", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    expect(await api(h.otherOrgKey.secretKey).verify({ sessionToken: created.sessionToken })).toEqual({
      valid: false,
      reason: "not_found",
    });
    // …and the owner still sees it valid: the foreign lookup changed nothing.
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toMatchObject({
      valid: true,
    });
  });

  it("checks the operation against allowedOperations", async () => {
    const { sessionToken } = await api(h.testKey.secretKey).create({
      externalUserId: "user_1",
      allowedOperations: ["session:read"],
    });
    expect(await api(h.testKey.secretKey).verify({ sessionToken, operation: "customer:read" })).toEqual({
      valid: false,
      reason: "operation_not_allowed",
    });
    expect(await api(h.testKey.secretKey).verify({ sessionToken, operation: "session:read" })).toMatchObject({
      valid: true,
      allowedOperations: ["session:read"],
    });
    // Without an operation to check, a scoped token is still a valid token.
    expect(await api(h.testKey.secretKey).verify({ sessionToken })).toMatchObject({ valid: true });
  });

  it("allows every operation when allowedOperations was omitted", async () => {
    const { sessionToken } = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    for (const operation of ["customer:read", "session:read", "session:revoke"] as const) {
      expect(await api(h.testKey.secretKey).verify({ sessionToken, operation })).toMatchObject({
        valid: true,
        allowedOperations: null,
      });
    }
  });

  it("reports revoked before expired, and expired before an operation check", async () => {
    const revoked = await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 60 });
    const expired = await api(h.testKey.secretKey).create({
      externalUserId: "user_1",
      expiresIn: 60,
      allowedOperations: ["session:read"],
    });
    await api(h.testKey.secretKey).revoke({ tokenId: revoked.tokenId });
    h.clock.advance(60_000);
    expect(await api(h.testKey.secretKey).verify({ sessionToken: revoked.sessionToken })).toEqual({
      valid: false,
      reason: "revoked",
    });
    expect(
      await api(h.testKey.secretKey).verify({ sessionToken: expired.sessionToken, operation: "customer:read" }),
    ).toEqual({ valid: false, reason: "expired" });
  });
});
