import { ManualClock } from "@billingos/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BillingOS } from "../src/index.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";

// The server's clock stands still until told to move, so expiry is tested without sleeping.
let clock: ManualClock;
let h: ServerHarness;
let billing: BillingOS;
beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  h = await startServerHarness({ clock });
  billing = h.client(h.testKey.secretKey);
});
afterEach(() => h.close());

describe("expiry, on the server's clock", () => {
  it("expiresAt is the server's creation time plus expiresIn", async () => {
    const created = await billing.createSessionToken({ externalUserId: "u1", expiresIn: 90 });
    expect(created.expiresAt).toEqual(new Date(clock.now() + 90_000));
  });

  it("a token is valid until the last millisecond before expiresAt, then expired", async () => {
    const created = await billing.createSessionToken({ externalUserId: "u1", expiresIn: 60 });

    clock.advance(59_999);
    expect(await billing.verifySessionToken(created.sessionToken)).toMatchObject({ valid: true });

    clock.advance(1);
    expect(await billing.verifySessionToken(created.sessionToken)).toEqual({ valid: false, reason: "expired" });
  });

  it("an expired token is listed as expired, left out of active, and not counted by a customer revoke", async () => {
    const old = await billing.createSessionToken({ externalUserId: "u1", expiresIn: 60 });
    clock.advance(61_000);
    const fresh = await billing.createSessionToken({ externalUserId: "u1" });

    const all = await billing.listSessionTokens({ externalUserId: "u1" });
    expect(all.data.map((t) => [t.tokenId, t.status])).toEqual([
      [fresh.tokenId, "active"],
      [old.tokenId, "expired"],
    ]);
    const active = await billing.listSessionTokens({ externalUserId: "u1", status: "active" });
    expect(active.data.map((t) => t.tokenId)).toEqual([fresh.tokenId]);

    const revoked = await billing.revokeCustomerSessionTokens({ externalUserId: "u1" });
    expect(revoked).toEqual({ revokedCount: 1, revokedAt: new Date(clock.now()) });
  });

  it("revokedAt is the server's time of the first revocation", async () => {
    const created = await billing.createSessionToken({ externalUserId: "u1" });
    clock.advance(1_000);
    const first = await billing.revokeSessionToken(created.tokenId);
    expect(first.revokedAt).toEqual(new Date(clock.now()));
    clock.advance(5_000);
    expect((await billing.revokeSessionToken(created.sessionToken)).revokedAt).toEqual(first.revokedAt);
  });
});
