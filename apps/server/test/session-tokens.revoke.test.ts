import { formatToken } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { randomSecretBody } from "../src/shared/secrets.js";
import { createHarness, type Harness, rejectionOf, START_TIME, withCharChanged } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const api = (secretKey: string) => h.caller(secretKey).sessionTokens;

describe("sessionTokens.revoke", () => {
  it("revokes by tokenId, at the server's time", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    h.clock.advance(5_000);
    expect(await api(h.testKey.secretKey).revoke({ tokenId: created.tokenId })).toEqual({
      tokenId: created.tokenId,
      revokedAt: new Date(START_TIME + 5_000).toISOString(),
    });
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toEqual({
      valid: false,
      reason: "revoked",
    });
  });

  it("revokes by the token itself", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    expect(await api(h.testKey.secretKey).revoke({ sessionToken: created.sessionToken })).toEqual({
      tokenId: created.tokenId,
      revokedAt: new Date(START_TIME).toISOString(),
    });
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toEqual({
      valid: false,
      reason: "revoked",
    });
  });

  it("is idempotent: a second revoke returns the first revocation time", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    const first = await api(h.testKey.secretKey).revoke({ tokenId: created.tokenId });
    h.clock.advance(60_000);
    const byId = await api(h.testKey.secretKey).revoke({ tokenId: created.tokenId });
    h.clock.advance(60_000);
    const byToken = await api(h.testKey.secretKey).revoke({ sessionToken: created.sessionToken });
    expect(byId).toEqual(first);
    expect(byToken).toEqual(first);
    expect(first.revokedAt).toBe(new Date(START_TIME).toISOString());
  });

  it("leaves the customer's other tokens valid", async () => {
    const revoked = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    const kept = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    await api(h.testKey.secretKey).revoke({ tokenId: revoked.tokenId });
    expect(await api(h.testKey.secretKey).verify({ sessionToken: kept.sessionToken })).toMatchObject({ valid: true });
  });

  it("a live key cannot revoke a test token, by id (NOT_FOUND) or by token (BAD_REQUEST)", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    // By id: the live environment has no such token, reported like any unknown id.
    const byId = await rejectionOf(api(h.liveKey.secretKey).revoke({ tokenId: created.tokenId }));
    expect(byId.error.code).toBe("NOT_FOUND");
    expect(byId.message).toContain(created.tokenId);
    // By token: the prefix says test, so the message says which key to use instead.
    const byToken = await rejectionOf(api(h.liveKey.secretKey).revoke({ sessionToken: created.sessionToken }));
    expect(byToken.error.code).toBe("BAD_REQUEST");
    expect(byToken.message).toMatch(/test/);
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toMatchObject({
      valid: true,
    });
  });

  it("another organization cannot revoke the token, by id or by token (NOT_FOUND)", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    // Globex's key is in the same environment but a different organization: the token is not theirs.
    const byId = await rejectionOf(api(h.otherOrgKey.secretKey).revoke({ tokenId: created.tokenId }));
    // Same by token: knowing a token does not let another organization revoke it.
    const byToken = await rejectionOf(api(h.otherOrgKey.secretKey).revoke({ sessionToken: created.sessionToken }));
    expect(byId.error.code).toBe("NOT_FOUND");
    expect(byToken.error.code).toBe("NOT_FOUND");
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toMatchObject({
      valid: true,
    });
  });

  it("answers NOT_FOUND for an unknown id or an unknown well-formed token", async () => {
    // A well-shaped id that was never issued.
    const unknownId = await rejectionOf(api(h.testKey.secretKey).revoke({ tokenId: "tok_00000000000000000000000000" }));
    expect(unknownId.error.code).toBe("NOT_FOUND");
    expect(unknownId.message).toContain("tok_00000000000000000000000000");
    // A token with a valid checksum that was never issued.
    const forged = formatToken("sessionToken", "test", randomSecretBody());
    const unknownToken = await rejectionOf(api(h.testKey.secretKey).revoke({ sessionToken: forged }));
    expect(unknownToken.error.code).toBe("NOT_FOUND");
  });

  it("answers BAD_REQUEST for a malformed token", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    // A changed character breaks the checksum: it cannot be any token, so it is bad input, not NOT_FOUND.
    const { error, message } = await rejectionOf(
      api(h.testKey.secretKey).revoke({ sessionToken: withCharChanged(created.sessionToken, 20) }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(message).toContain("sessionToken");
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toMatchObject({
      valid: true,
    });
  });

  it("answers BAD_REQUEST when both tokenId and sessionToken are given, revoking nothing", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    // Exactly one of the two: both is ambiguous if they disagree.
    const { error, message } = await rejectionOf(
      api(h.testKey.secretKey).revoke({ tokenId: created.tokenId, sessionToken: created.sessionToken }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(message).toContain("tokenId");
    expect(message).toContain("sessionToken");
    expect(await api(h.testKey.secretKey).verify({ sessionToken: created.sessionToken })).toMatchObject({
      valid: true,
    });
  });

  it("can revoke an already expired token", async () => {
    const created = await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 60 });
    h.clock.advance(120_000);
    const revoked = await api(h.testKey.secretKey).revoke({ tokenId: created.tokenId });
    expect(revoked.revokedAt).toBe(new Date(START_TIME + 120_000).toISOString());
  });
});

describe("sessionTokens.revokeForCustomer", () => {
  it("revokes every active token of an externalUserId and counts only those", async () => {
    const acme = api(h.testKey.secretKey);
    const active1 = await acme.create({ externalUserId: "user_1" });
    const active2 = await acme.create({ externalUserId: "user_1", expiresIn: 86_400 });
    const alreadyRevoked = await acme.create({ externalUserId: "user_1" });
    const expired = await acme.create({ externalUserId: "user_1", expiresIn: 60 });
    const otherUser = await acme.create({ externalUserId: "user_2" });
    const liveSameUser = await api(h.liveKey.secretKey).create({ externalUserId: "user_1" });
    const globexSameUser = await api(h.otherOrgKey.secretKey).create({ externalUserId: "user_1" });
    const firstRevocation = await acme.revoke({ tokenId: alreadyRevoked.tokenId });
    h.clock.advance(60_000);

    const result = await acme.revokeForCustomer({ externalUserId: "user_1" });
    expect(result).toEqual({ revokedCount: 2, revokedAt: new Date(START_TIME + 60_000).toISOString() });

    for (const token of [active1, active2, alreadyRevoked]) {
      expect(await acme.verify({ sessionToken: token.sessionToken })).toEqual({ valid: false, reason: "revoked" });
    }
    expect(await acme.verify({ sessionToken: expired.sessionToken })).toEqual({ valid: false, reason: "expired" });
    expect(await acme.verify({ sessionToken: otherUser.sessionToken })).toMatchObject({ valid: true });
    expect(await api(h.liveKey.secretKey).verify({ sessionToken: liveSameUser.sessionToken })).toMatchObject({
      valid: true,
    });
    expect(await api(h.otherOrgKey.secretKey).verify({ sessionToken: globexSameUser.sessionToken })).toMatchObject({
      valid: true,
    });
    // The earlier single revocation keeps its own time.
    expect(await acme.revoke({ tokenId: alreadyRevoked.tokenId })).toEqual(firstRevocation);
  });

  it("revokes every active token of an externalOrganizationId, across its users", async () => {
    const acme = api(h.testKey.secretKey);
    const a = await acme.create({ externalUserId: "user_1", externalOrganizationId: "org_9" });
    const b = await acme.create({ externalUserId: "user_2", externalOrganizationId: "org_9" });
    const otherOrg = await acme.create({ externalUserId: "user_1", externalOrganizationId: "org_10" });
    const noOrg = await acme.create({ externalUserId: "user_1" });

    expect(await acme.revokeForCustomer({ externalOrganizationId: "org_9" })).toMatchObject({ revokedCount: 2 });
    expect(await acme.verify({ sessionToken: a.sessionToken })).toEqual({ valid: false, reason: "revoked" });
    expect(await acme.verify({ sessionToken: b.sessionToken })).toEqual({ valid: false, reason: "revoked" });
    expect(await acme.verify({ sessionToken: otherOrg.sessionToken })).toMatchObject({ valid: true });
    expect(await acme.verify({ sessionToken: noOrg.sessionToken })).toMatchObject({ valid: true });
  });

  it("counts zero when the customer has no active token, and again on a repeat", async () => {
    const acme = api(h.testKey.secretKey);
    await acme.create({ externalUserId: "user_1" });
    expect(await acme.revokeForCustomer({ externalUserId: "nobody" })).toMatchObject({ revokedCount: 0 });
    expect(await acme.revokeForCustomer({ externalUserId: "user_1" })).toMatchObject({ revokedCount: 1 });
    expect(await acme.revokeForCustomer({ externalUserId: "user_1" })).toMatchObject({ revokedCount: 0 });
  });

  it("another organization or environment revokes nothing of Acme's test customer", async () => {
    const acme = api(h.testKey.secretKey);
    const token = await acme.create({ externalUserId: "user_1", externalOrganizationId: "org_9" });
    expect(await api(h.otherOrgKey.secretKey).revokeForCustomer({ externalUserId: "user_1" })).toMatchObject({
      revokedCount: 0,
    });
    expect(await api(h.liveKey.secretKey).revokeForCustomer({ externalOrganizationId: "org_9" })).toMatchObject({
      revokedCount: 0,
    });
    expect(await acme.verify({ sessionToken: token.sessionToken })).toMatchObject({ valid: true });
  });
});
