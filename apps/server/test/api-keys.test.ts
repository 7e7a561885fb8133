import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApiKey, listApiKeys, revokeApiKey } from "../src/api-keys/api-keys.service.js";
import { DomainError } from "../src/shared/domain-error.js";
import { createHarness, type Harness, rejectionOf, START_TIME } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const api = (secretKey: string) => h.caller(secretKey).sessionTokens;

describe("createApiKey", () => {
  it("adds a key to an existing organization and environment", async () => {
    const second = await createApiKey(h.store, h.clock, { organizationName: "Acme", environment: "test" });
    expect(second.organizationId).toBe(h.testKey.organizationId);
    expect(second.id).not.toBe(h.testKey.id);
    expect(second.secretKey).toMatch(/^sk_test_[0-9A-Za-z]{49}$/);
    expect(second.secretKey).not.toBe(h.testKey.secretKey);
  });

  it("lists keys by hint only, never in full", async () => {
    const keys = await listApiKeys(h.store);
    expect(keys).toHaveLength(3);
    const acmeTest = keys.find((key) => key.id === h.testKey.id)!;
    expect(acmeTest).toMatchObject({ organization: "Acme", environment: "test", revokedAt: null });
    expect(acmeTest.key).toBe(`sk_test_…${h.testKey.secretKey.slice(-4)}`);
    expect(JSON.stringify(keys)).not.toContain(h.testKey.secretKey);
  });
});

describe("revokeApiKey", () => {
  it("revokes every token the key created; another key of the org sees them revoked", async () => {
    const second = await createApiKey(h.store, h.clock, { organizationName: "Acme", environment: "test" });
    const ofRevokedKey = [
      await api(h.testKey.secretKey).create({ externalUserId: "user_1" }),
      await api(h.testKey.secretKey).create({ externalUserId: "user_2", allowedOperations: ["session:read"] }),
      await api(h.testKey.secretKey).create({ externalUserId: "user_3", expiresIn: 86_400 }),
    ];
    h.clock.advance(1); // so that the listing order below does not hang on same-millisecond ids
    const ofSecondKey = await api(second.secretKey).create({ externalUserId: "user_1" });
    const ofLiveKey = await api(h.liveKey.secretKey).create({ externalUserId: "user_1" });
    h.clock.advance(999);

    const result = await revokeApiKey(h.store, h.clock, h.testKey.id);
    expect(result).toEqual({
      id: h.testKey.id,
      revokedAt: new Date(START_TIME + 1_000),
      revokedSessionTokens: 3,
    });

    for (const token of ofRevokedKey) {
      expect(await api(second.secretKey).verify({ sessionToken: token.sessionToken })).toEqual({
        valid: false,
        reason: "revoked",
      });
    }
    // Tokens of the org's other keys are untouched.
    expect(await api(second.secretKey).verify({ sessionToken: ofSecondKey.sessionToken })).toMatchObject({
      valid: true,
    });
    expect(await api(h.liveKey.secretKey).verify({ sessionToken: ofLiveKey.sessionToken })).toMatchObject({
      valid: true,
    });
    // The listing shows them revoked at the key's revocation time.
    const listed = await api(second.secretKey).list({ externalUserId: "user_1" });
    expect(listed.data.map((token) => [token.tokenId, token.status, token.revokedAt])).toEqual([
      [ofSecondKey.tokenId, "active", null],
      [ofRevokedKey[0]!.tokenId, "revoked", new Date(START_TIME + 1_000).toISOString()],
    ]);
  });

  it("refuses the revoked key itself with UNAUTHORIZED", async () => {
    const token = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    await revokeApiKey(h.store, h.clock, h.testKey.id);
    // The key can no longer create, verify or revoke anything.
    for (const call of [
      () => api(h.testKey.secretKey).create({ externalUserId: "user_1" }),
      () => api(h.testKey.secretKey).verify({ sessionToken: token.sessionToken }),
      () => api(h.testKey.secretKey).revoke({ tokenId: token.tokenId }),
    ]) {
      expect((await rejectionOf(call())).error.code).toBe("UNAUTHORIZED");
    }
  });

  it("is idempotent: the first revocation time stands", async () => {
    const first = await revokeApiKey(h.store, h.clock, h.testKey.id);
    h.clock.advance(60_000);
    const second = await revokeApiKey(h.store, h.clock, h.testKey.id);
    expect(second.revokedAt).toEqual(first.revokedAt);
    expect(second.revokedSessionTokens).toBe(0);
  });

  it("keeps the first revocation time of tokens revoked before the key", async () => {
    const token = await api(h.testKey.secretKey).create({ externalUserId: "user_1" });
    const revoked = await api(h.testKey.secretKey).revoke({ tokenId: token.tokenId });
    h.clock.advance(60_000);
    const result = await revokeApiKey(h.store, h.clock, h.testKey.id);
    expect(result.revokedSessionTokens).toBe(0);
    const row = await h.store.kysely
      .selectFrom("session_tokens")
      .select(["revoked_at", "revocation_reason"])
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ revoked_at: Date.parse(revoked.revokedAt), revocation_reason: "revoked" });
  });

  it("throws NOT_FOUND for an unknown key id", async () => {
    // No such key: nothing to revoke, and the caller is told so.
    await expect(revokeApiKey(h.store, h.clock, "key_00000000000000000000000000")).rejects.toSatisfy(
      (error: unknown) => error instanceof DomainError && error.code === "NOT_FOUND",
    );
  });
});
