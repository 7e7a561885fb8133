import { parseToken } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countSessionTokens, createHarness, type Harness, START_TIME } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const HOUR_MS = 3_600_000;

describe("sessionTokens.create", () => {
  it("issues bos_session_test_ tokens for a test key", async () => {
    const created = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    expect(created.sessionToken.startsWith("bos_session_test_")).toBe(true);
    expect(parseToken(created.sessionToken, "sessionToken")).toEqual({ kind: "sessionToken", environment: "test" });
  });

  it("issues bos_session_live_ tokens for a live key", async () => {
    const created = await h.caller(h.liveKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    expect(created.sessionToken.startsWith("bos_session_live_")).toBe(true);
    expect(parseToken(created.sessionToken, "sessionToken")).toEqual({ kind: "sessionToken", environment: "live" });
  });

  it("issues URL-safe tokens and tok_ ids", async () => {
    const created = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    expect(created.sessionToken).toMatch(/^bos_session_test_[0-9A-Za-z]{49}$/);
    expect(created.tokenId).toMatch(/^tok_[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it("expires exactly 3600 s after the server clock by default", async () => {
    const created = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    expect(created.expiresAt).toBe(new Date(START_TIME + HOUR_MS).toISOString());
  });

  it("counts expiresIn from the server clock at creation", async () => {
    h.clock.advance(12_345);
    const created = await h
      .caller(h.testKey.secretKey)
      .sessionTokens.create({ externalUserId: "user_1", expiresIn: 120 });
    expect(created.expiresAt).toBe(new Date(START_TIME + 12_345 + 120_000).toISOString());
  });

  it("issues a different token and id every time", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const first = await api.create({ externalUserId: "user_1" });
    const second = await api.create({ externalUserId: "user_1" });
    expect(second.sessionToken).not.toBe(first.sessionToken);
    expect(second.tokenId).not.toBe(first.tokenId);
    expect(await countSessionTokens(h.store)).toBe(2);
  });

  it("stores customer, metadata and operations, and verify returns them", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const metadata = { ip: "203.0.113.9", userAgent: "Firefox", nested: { n: 1, list: [true, null, "x"] } };
    const created = await api.create({
      externalUserId: "user_1",
      externalOrganizationId: "org_9",
      email: "user@example.com",
      allowedOperations: ["customer:read", "session:revoke"],
      metadata,
    });
    const verified = await api.verify({ sessionToken: created.sessionToken });
    expect(verified).toEqual({
      valid: true,
      tokenId: created.tokenId,
      environment: "test",
      customer: { externalUserId: "user_1", externalOrganizationId: "org_9", email: "user@example.com" },
      allowedOperations: ["customer:read", "session:revoke"],
      expiresAt: created.expiresAt,
      metadata,
    });
  });

  it("dedupes repeated operations", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const created = await api.create({
      externalUserId: "user_1",
      allowedOperations: ["session:read", "customer:read", "session:read", "customer:read"],
    });
    const verified = await api.verify({ sessionToken: created.sessionToken });
    expect(verified).toMatchObject({ valid: true, allowedOperations: ["session:read", "customer:read"] });
  });

  it("omits unresolvedCustomers when no imported customer awaits a bind", async () => {
    const created = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    expect(Object.keys(created).sort()).toEqual(["expiresAt", "sessionToken", "tokenId"]);
  });
});
