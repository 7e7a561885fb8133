import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, START_TIME } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const api = (secretKey: string) => h.caller(secretKey).sessionTokens;

/** Creates `count` tokens for a user, one millisecond apart; returns their ids oldest first. */
async function createTokens(count: number, externalUserId = "user_1"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await api(h.testKey.secretKey).create({ externalUserId })).tokenId);
    h.clock.advance(1);
  }
  return ids;
}

describe("sessionTokens.list", () => {
  it("pages 25 tokens 10/10/5, newest first, without duplicates, ending with a null cursor", async () => {
    const ids = await createTokens(25);
    const acme = api(h.testKey.secretKey);
    const page1 = await acme.list({ externalUserId: "user_1", limit: 10 });
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await acme.list({ externalUserId: "user_1", limit: 10, cursor: page1.nextCursor! });
    expect(page2.nextCursor).not.toBeNull();
    const page3 = await acme.list({ externalUserId: "user_1", limit: 10, cursor: page2.nextCursor! });

    expect([page1.data.length, page2.data.length, page3.data.length]).toEqual([10, 10, 5]);
    expect(page3.nextCursor).toBeNull();
    const listed = [...page1.data, ...page2.data, ...page3.data].map((token) => token.tokenId);
    expect(new Set(listed).size).toBe(25);
    expect(listed).toEqual([...ids].reverse());
  });

  it("returns a null cursor when the last page is exactly full", async () => {
    await createTokens(10);
    const page = await api(h.testKey.secretKey).list({ externalUserId: "user_1", limit: 10 });
    expect(page.data).toHaveLength(10);
    expect(page.nextCursor).toBeNull();
  });

  it("defaults to 20 per page", async () => {
    await createTokens(21);
    const page = await api(h.testKey.secretKey).list({ externalUserId: "user_1" });
    expect(page.data).toHaveLength(20);
    expect(page.nextCursor).toBe(page.data[19]!.tokenId);
  });

  it("lists tokens created within the same millisecond newest first", async () => {
    // The clock stands still: every id carries the same timestamp. Creation order must still hold.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api(h.testKey.secretKey).create({ externalUserId: "user_1" })).tokenId);
    const page = await api(h.testKey.secretKey).list({ externalUserId: "user_1" });
    expect(page.data.map((token) => token.tokenId)).toEqual([...ids].reverse());
  });

  it("reports each token's status and details", async () => {
    const acme = api(h.testKey.secretKey);
    const expired = await acme.create({ externalUserId: "user_1", expiresIn: 60 });
    h.clock.advance(1);
    const revoked = await acme.create({ externalUserId: "user_1" });
    h.clock.advance(1);
    const active = await acme.create({
      externalUserId: "user_1",
      externalOrganizationId: "org_9",
      email: "user@example.com",
      allowedOperations: ["session:read"],
      metadata: { ip: "203.0.113.9" },
    });
    await acme.revoke({ tokenId: revoked.tokenId });
    h.clock.set(START_TIME + 60_000);

    const { data } = await acme.list({ externalUserId: "user_1" });
    expect(data.map((token) => [token.tokenId, token.status])).toEqual([
      [active.tokenId, "active"],
      [revoked.tokenId, "revoked"],
      [expired.tokenId, "expired"],
    ]);
    expect(data[0]).toEqual({
      tokenId: active.tokenId,
      status: "active",
      customer: { externalUserId: "user_1", externalOrganizationId: "org_9", email: "user@example.com" },
      allowedOperations: ["session:read"],
      metadata: { ip: "203.0.113.9" },
      createdAt: new Date(START_TIME + 2).toISOString(),
      expiresAt: active.expiresAt,
      revokedAt: null,
    });
    expect(data[1]!.revokedAt).toBe(new Date(START_TIME + 2).toISOString());
  });

  it('status "active" leaves out revoked and expired tokens, and pages over what is left', async () => {
    const acme = api(h.testKey.secretKey);
    const activeIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      await acme.create({ externalUserId: "user_1", expiresIn: 60 }); // expired by the time we list
      const revoked = await acme.create({ externalUserId: "user_1" });
      await acme.revoke({ tokenId: revoked.tokenId });
      activeIds.push((await acme.create({ externalUserId: "user_1" })).tokenId);
      h.clock.advance(1);
    }
    // Past the expiry of the last 60 s token (created at START_TIME + 5 ms).
    h.clock.set(START_TIME + 60_000 + 6);

    const page1 = await acme.list({ externalUserId: "user_1", status: "active", limit: 4 });
    const page2 = await acme.list({ externalUserId: "user_1", status: "active", limit: 4, cursor: page1.nextCursor! });
    const listed = [...page1.data, ...page2.data];
    expect(listed.every((token) => token.status === "active")).toBe(true);
    expect(listed.map((token) => token.tokenId).sort()).toEqual([...activeIds].sort());
    expect(page2.nextCursor).toBeNull();

    const all = await acme.list({ externalUserId: "user_1", status: "all", limit: 100 });
    expect(all.data).toHaveLength(18);
  });

  it("lists only the asked customer's tokens", async () => {
    await createTokens(3, "user_1");
    await createTokens(2, "user_2");
    const page = await api(h.testKey.secretKey).list({ externalUserId: "user_2" });
    expect(page.data).toHaveLength(2);
    expect(page.data.every((token) => token.customer.externalUserId === "user_2")).toBe(true);
  });

  it("another organization or environment sees none of the tokens", async () => {
    await createTokens(3);
    expect(await api(h.otherOrgKey.secretKey).list({ externalUserId: "user_1" })).toEqual({
      data: [],
      nextCursor: null,
    });
    expect(await api(h.liveKey.secretKey).list({ externalUserId: "user_1" })).toEqual({ data: [], nextCursor: null });
    expect((await api(h.testKey.secretKey).list({ externalUserId: "user_1" })).data).toHaveLength(3);
  });
});
