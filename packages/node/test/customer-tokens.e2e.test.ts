import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingOS, SessionTokenSummary } from "../src/index.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";

let h: ServerHarness;
let billing: BillingOS;
beforeEach(async () => {
  h = await startServerHarness();
  billing = h.client(h.testKey.secretKey);
});
afterEach(() => h.close());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates tokens a few milliseconds apart, so that creation order is also id order. */
async function createTokens(externalUserId: string, count: number, extra: { externalOrganizationId?: string } = {}) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await billing.createSessionToken({ externalUserId, ...extra, metadata: { i } })).tokenId);
    await pause(3);
  }
  return ids;
}

describe("listSessionTokens", () => {
  it("pages through a customer's tokens newest first, with Dates in the summaries", async () => {
    const created = await createTokens("user_1", 5);
    await createTokens("user_2", 1);

    const seen: SessionTokenSummary[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await billing.listSessionTokens({
        externalUserId: "user_1",
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data);
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor !== undefined && pages < 10);

    expect(pages).toBe(3);
    expect(seen.map((t) => t.tokenId)).toEqual([...created].reverse());
    for (const summary of seen) {
      expect(summary.status).toBe("active");
      expect(summary.customer.externalUserId).toBe("user_1");
      expect(summary.createdAt).toBeInstanceOf(Date);
      expect(summary.expiresAt).toBeInstanceOf(Date);
      expect(summary.expiresAt.getTime() - summary.createdAt.getTime()).toBe(3_600_000);
      expect(summary.revokedAt).toBeNull();
    }
    expect(seen[0]!.metadata).toEqual({ i: 4 });
  });

  it("never repeats or skips a token, even when tokens share a millisecond", async () => {
    const created = await Promise.all(
      Array.from({ length: 7 }, () => billing.createSessionToken({ externalUserId: "user_fast" })),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await billing.listSessionTokens({
        externalUserId: "user_fast",
        limit: 3,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.data.map((t) => t.tokenId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);

    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(created.map((c) => c.tokenId)));
  });

  it("shows revoked tokens with their revocation time, and filters them out for status active", async () => {
    const [first, second] = await createTokens("user_1", 2);
    const revoked = await billing.revokeSessionToken(first!);

    const all = await billing.listSessionTokens({ externalUserId: "user_1" });
    expect(all.nextCursor).toBeNull();
    const revokedSummary = all.data.find((t) => t.tokenId === first);
    expect(revokedSummary?.status).toBe("revoked");
    expect(revokedSummary?.revokedAt).toBeInstanceOf(Date);
    expect(revokedSummary?.revokedAt).toEqual(revoked.revokedAt);

    const active = await billing.listSessionTokens({ externalUserId: "user_1", status: "active" });
    expect(active.data.map((t) => t.tokenId)).toEqual([second]);
  });

  it("lists nothing for a customer of another environment", async () => {
    await createTokens("user_1", 1);
    const live = h.client(h.liveKey.secretKey);
    expect(await live.listSessionTokens({ externalUserId: "user_1" })).toEqual({ data: [], nextCursor: null });
  });
});

describe("revokeCustomerSessionTokens", () => {
  it("revokes every active token of a user, and only theirs", async () => {
    const mine = await createTokens("user_1", 3);
    const [theirs] = await createTokens("user_2", 1);
    await billing.revokeSessionToken(mine[0]!);

    const result = await billing.revokeCustomerSessionTokens({ externalUserId: "user_1" });
    expect(result.revokedCount).toBe(2);
    expect(result.revokedAt).toBeInstanceOf(Date);

    const page = await billing.listSessionTokens({ externalUserId: "user_1", status: "active" });
    expect(page.data).toEqual([]);
    const other = await billing.listSessionTokens({ externalUserId: "user_2", status: "active" });
    expect(other.data.map((t) => t.tokenId)).toEqual([theirs]);

    expect((await billing.revokeCustomerSessionTokens({ externalUserId: "user_1" })).revokedCount).toBe(0);
  });

  it("revokes by externalOrganizationId, and the tokens then verify as revoked", async () => {
    const a = await billing.createSessionToken({ externalUserId: "user_a", externalOrganizationId: "org_9" });
    const b = await billing.createSessionToken({ externalUserId: "user_b", externalOrganizationId: "org_9" });
    const c = await billing.createSessionToken({ externalUserId: "user_c", externalOrganizationId: "org_10" });

    const result = await billing.revokeCustomerSessionTokens({ externalOrganizationId: "org_9" });
    expect(result.revokedCount).toBe(2);

    expect(await billing.verifySessionToken(a.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    expect(await billing.verifySessionToken(b.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    expect(await billing.verifySessionToken(c.sessionToken)).toMatchObject({ valid: true });
  });

  it("does not reach the other environment", async () => {
    const test = await billing.createSessionToken({ externalUserId: "user_1" });
    const live = h.client(h.liveKey.secretKey);
    expect((await live.revokeCustomerSessionTokens({ externalUserId: "user_1" })).revokedCount).toBe(0);
    expect(await billing.verifySessionToken(test.sessionToken)).toMatchObject({ valid: true });
  });
});
