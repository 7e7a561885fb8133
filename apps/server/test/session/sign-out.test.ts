import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, START_TIME } from "../harness.js";
import { expectBareUnauthorized, sessionCaller } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const merchant = () => h.caller(h.testKey.secretKey).sessionTokens;

describe("session.signOut", () => {
  it("revokes the token in hand: the next call is refused, verify says revoked, the list shows it revoked", async () => {
    const created = await merchant().create({ externalUserId: "user_1" });
    const other = await merchant().create({ externalUserId: "user_1" });
    expect((await sessionCaller(h, created.sessionToken).session.get()).tokenId).toBe(created.tokenId);

    h.clock.advance(5_000);
    const signedOutAt = new Date(START_TIME + 5_000).toISOString();
    expect(await sessionCaller(h, created.sessionToken).session.signOut()).toEqual({
      tokenId: created.tokenId,
      revokedAt: signedOutAt,
    });

    // Refused: the token was signed out by its holder a moment ago.
    await expectBareUnauthorized(sessionCaller(h, created.sessionToken).session.get());
    // Refused: signing out again with a revoked token is not a way to probe it either.
    await expectBareUnauthorized(sessionCaller(h, created.sessionToken).session.signOut());

    expect(await merchant().verify({ sessionToken: created.sessionToken })).toEqual({
      valid: false,
      reason: "revoked",
    });
    const listed = (await merchant().list({ externalUserId: "user_1" })).data;
    expect(listed.find((token) => token.tokenId === created.tokenId)).toMatchObject({
      status: "revoked",
      revokedAt: signedOutAt,
    });

    // Only the token in hand: the customer's other token is untouched.
    expect(listed.find((token) => token.tokenId === other.tokenId)).toMatchObject({
      status: "active",
      revokedAt: null,
    });
    expect((await sessionCaller(h, other.sessionToken).session.get()).tokenId).toBe(other.tokenId);
  });

  it("the merchant's later revoke of a signed-out token keeps the sign-out time (idempotent)", async () => {
    const created = await merchant().create({ externalUserId: "user_1" });
    const { revokedAt } = await sessionCaller(h, created.sessionToken).session.signOut();
    h.clock.advance(60_000);
    expect(await merchant().revoke({ tokenId: created.tokenId })).toEqual({ tokenId: created.tokenId, revokedAt });
  });
});

describe("a merchant revoke holds for the very next session call (nothing cached)", () => {
  it("revoke by token id", async () => {
    const created = await merchant().create({ externalUserId: "user_1" });
    const browser = sessionCaller(h, created.sessionToken);
    // Warm up every procedure first, so any cache would now hold the token as valid.
    await browser.session.get();
    await browser.session.customer();
    await merchant().revoke({ tokenId: created.tokenId });
    // Refused: revoked by id just before this call, on the same caller (same context).
    await expectBareUnauthorized(browser.session.get());
    // Refused: likewise for the customer view.
    await expectBareUnauthorized(browser.session.customer());
  });

  it("revoke by the token itself", async () => {
    const created = await merchant().create({ externalUserId: "user_1" });
    await sessionCaller(h, created.sessionToken).session.customer();
    await merchant().revoke({ sessionToken: created.sessionToken });
    // Refused: revoked by value just before this call.
    await expectBareUnauthorized(sessionCaller(h, created.sessionToken).session.customer());
  });

  it("revoking every token of the customer", async () => {
    const first = await merchant().create({ externalUserId: "user_1", externalOrganizationId: "org_1" });
    const second = await merchant().create({ externalUserId: "user_1", externalOrganizationId: "org_1" });
    const bystander = await merchant().create({ externalUserId: "user_2" });
    await sessionCaller(h, first.sessionToken).session.get();
    expect(await merchant().revokeForCustomer({ externalUserId: "user_1" })).toMatchObject({ revokedCount: 2 });
    // Refused: every token of user_1 was revoked.
    await expectBareUnauthorized(sessionCaller(h, first.sessionToken).session.get());
    // Refused: every token of user_1 was revoked.
    await expectBareUnauthorized(sessionCaller(h, second.sessionToken).session.get());
    expect((await sessionCaller(h, bystander.sessionToken).session.get()).tokenId).toBe(bystander.tokenId);
  });

  it("revoking by the customer's organization", async () => {
    const created = await merchant().create({ externalUserId: "user_1", externalOrganizationId: "org_1" });
    await sessionCaller(h, created.sessionToken).session.get();
    await merchant().revokeForCustomer({ externalOrganizationId: "org_1" });
    // Refused: every token of org_1 was revoked.
    await expectBareUnauthorized(sessionCaller(h, created.sessionToken).session.get());
  });
});
