import { revokeApiKey, systemClock } from "@billingos/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BillingOSError } from "../src/index.js";
import { rejectionOf, type ServerHarness, startServerHarness } from "./server-harness.js";

let h: ServerHarness;
beforeEach(async () => {
  h = await startServerHarness();
});
afterEach(() => h.close());

const HOUR_MS = 3_600_000;

describe("the SPEC §2 flow through the real client and server", () => {
  it("creates a test token that expires in about an hour", async () => {
    const billing = h.client(h.testKey.secretKey);
    const before = Date.now();
    const created = await billing.createSessionToken({ externalUserId: "user_123", email: "user@example.com" });
    const after = Date.now();

    expect(created.sessionToken.startsWith("bos_session_test_")).toBe(true);
    expect(created.sessionToken).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(typeof created.tokenId).toBe("string");
    expect(created.tokenId).toMatch(/^tok_/);
    expect(created.expiresAt).toBeInstanceOf(Date);
    expect(created.expiresAt.getTime()).toBeGreaterThanOrEqual(before + HOUR_MS - 2_000);
    expect(created.expiresAt.getTime()).toBeLessThanOrEqual(after + HOUR_MS + 2_000);
    expect(created.unresolvedCustomers).toBeUndefined();
  });

  it("creates a live token with a live key", async () => {
    const created = await h.client(h.liveKey.secretKey).createSessionToken({ externalUserId: "user_123" });
    expect(created.sessionToken.startsWith("bos_session_live_")).toBe(true);
  });

  it("honours expiresIn", async () => {
    const before = Date.now();
    const created = await h.client(h.testKey.secretKey).createSessionToken({ externalUserId: "user_1", expiresIn: 60 });
    expect(created.expiresAt.getTime() - before).toBeGreaterThanOrEqual(60_000 - 2_000);
    expect(created.expiresAt.getTime() - before).toBeLessThanOrEqual(60_000 + 2_000);
  });

  it("verifies a fresh token with its customer, operations, metadata and a Date expiry", async () => {
    const billing = h.client(h.testKey.secretKey);
    const created = await billing.createSessionToken({
      externalUserId: "user_123",
      email: "user@example.com",
      externalOrganizationId: "org_9",
      allowedOperations: ["customer:read"],
      metadata: { ip: "203.0.113.9", nested: { ok: true } },
    });

    const verified = await billing.verifySessionToken(created.sessionToken);
    expect(verified).toEqual({
      valid: true,
      tokenId: created.tokenId,
      environment: "test",
      customer: { externalUserId: "user_123", externalOrganizationId: "org_9", email: "user@example.com" },
      allowedOperations: ["customer:read"],
      expiresAt: created.expiresAt,
      metadata: { ip: "203.0.113.9", nested: { ok: true } },
    });
    if (!verified.valid) throw new Error("unreachable");
    expect(verified.expiresAt).toBeInstanceOf(Date);
  });

  it("checks the operation a token is scoped to", async () => {
    const billing = h.client(h.testKey.secretKey);
    const scoped = await billing.createSessionToken({ externalUserId: "user_1", allowedOperations: ["customer:read"] });
    const unscoped = await billing.createSessionToken({ externalUserId: "user_1" });

    expect(await billing.verifySessionToken(scoped.sessionToken, { operation: "customer:read" })).toMatchObject({
      valid: true,
    });
    expect(await billing.verifySessionToken(scoped.sessionToken, { operation: "session:revoke" })).toEqual({
      valid: false,
      reason: "operation_not_allowed",
    });
    expect(await billing.verifySessionToken(unscoped.sessionToken, { operation: "session:revoke" })).toMatchObject({
      valid: true,
      allowedOperations: null,
    });
  });

  it("revokes by tokenId, idempotently, and the token then verifies as revoked", async () => {
    const billing = h.client(h.testKey.secretKey);
    const created = await billing.createSessionToken({ externalUserId: "user_123" });

    const first = await billing.revokeSessionToken(created.tokenId);
    expect(first.tokenId).toBe(created.tokenId);
    expect(first.revokedAt).toBeInstanceOf(Date);
    expect(Math.abs(first.revokedAt.getTime() - Date.now())).toBeLessThan(5_000);

    expect(await billing.verifySessionToken(created.sessionToken)).toEqual({ valid: false, reason: "revoked" });

    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await billing.revokeSessionToken(created.tokenId);
    expect(second).toEqual(first);
  });

  it("revokes by the token string too", async () => {
    const billing = h.client(h.testKey.secretKey);
    const created = await billing.createSessionToken({ externalUserId: "user_123" });

    const revoked = await billing.revokeSessionToken(created.sessionToken);
    expect(revoked.tokenId).toBe(created.tokenId);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await billing.verifySessionToken(created.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    // Both ways of naming the token agree on the first revocation time.
    expect(await billing.revokeSessionToken(created.tokenId)).toEqual(revoked);
  });

  it("calls a tampered token malformed", async () => {
    const billing = h.client(h.testKey.secretKey);
    const { sessionToken } = await billing.createSessionToken({ externalUserId: "user_1" });
    const index = "bos_session_test_".length + 10;
    const swapped = sessionToken[index] === "A" ? "B" : "A";
    const tampered = sessionToken.slice(0, index) + swapped + sessionToken.slice(index + 1);

    expect(tampered).not.toBe(sessionToken);
    expect(await billing.verifySessionToken(tampered)).toEqual({ valid: false, reason: "malformed" });
    expect(await billing.verifySessionToken(sessionToken.slice(0, -1))).toEqual({ valid: false, reason: "malformed" });
  });

  it("does not show another organization's token", async () => {
    const { sessionToken } = await h.client(h.testKey.secretKey).createSessionToken({ externalUserId: "user_1" });
    const globex = await h.createKey("Globex", "test");
    expect(await h.client(globex.secretKey).verifySessionToken(sessionToken)).toEqual({
      valid: false,
      reason: "not_found",
    });
  });
});

describe("test and live keep apart", () => {
  it("a live key can neither verify nor revoke a test token", async () => {
    const test = h.client(h.testKey.secretKey);
    const live = h.client(h.liveKey.secretKey);
    const created = await test.createSessionToken({ externalUserId: "user_1" });

    expect(await live.verifySessionToken(created.sessionToken)).toEqual({ valid: false, reason: "wrong_environment" });

    const byId = await rejectionOf(() => live.revokeSessionToken(created.tokenId));
    expect(byId).toBeInstanceOf(BillingOSError);
    expect(byId).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });

    const byToken = await rejectionOf(() => live.revokeSessionToken(created.sessionToken));
    expect(byToken).toBeInstanceOf(BillingOSError);
    expect(byToken).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    expect((byToken as BillingOSError).message).toMatch(/test session token/);

    expect(await test.verifySessionToken(created.sessionToken)).toMatchObject({
      valid: true,
      tokenId: created.tokenId,
    });
  });
});

describe("revoking a secret key", () => {
  it("revokes every token it created, and the key itself stops working", async () => {
    const sibling = await h.createKey("Acme", "test");
    const billing = h.client(h.testKey.secretKey);
    const siblingClient = h.client(sibling.secretKey);
    const a = await billing.createSessionToken({ externalUserId: "user_1" });
    const b = await billing.createSessionToken({ externalUserId: "user_2" });
    const other = await siblingClient.createSessionToken({ externalUserId: "user_3" });
    expect(await siblingClient.verifySessionToken(a.sessionToken)).toMatchObject({ valid: true });

    const revoked = await revokeApiKey(h.db, systemClock, h.testKey.id);
    expect(revoked.revokedSessionTokens).toBe(2);

    expect(await siblingClient.verifySessionToken(a.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    expect(await siblingClient.verifySessionToken(b.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    expect(await siblingClient.verifySessionToken(other.sessionToken)).toMatchObject({ valid: true });

    const error = await rejectionOf(() => billing.verifySessionToken(other.sessionToken));
    expect(error).toBeInstanceOf(BillingOSError);
    expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    const createError = await rejectionOf(() => billing.createSessionToken({ externalUserId: "user_1" }));
    expect(createError).toMatchObject({ code: "UNAUTHORIZED" });
  });
});
