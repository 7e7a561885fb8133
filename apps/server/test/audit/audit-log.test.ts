import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../../src/api-keys/api-keys.service.js";
import { purgeExpired } from "../../src/session-tokens/session-tokens.retention.js";
import { createHarness, type Harness, START_TIME } from "../harness.js";
import { sessionCaller } from "../session/support.js";

// The audit log: every change to a customer's tokens and binding is listed for that customer,
// newest first, with who did it; nothing else leaks in; it is purged with its own retention, once
// its subject is gone (audit-retention.test.ts has each rule).

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const merchant = () => h.caller(h.testKey.secretKey);
const actions = (page: { data: { action: string }[] }) => page.data.map((event) => event.action);

describe("audit.listForCustomer", () => {
  it("lists creation, revocation, sign-out, revoke-all and binding, newest first, with their actors", async () => {
    await merchant().customers.import({ customers: [{ stripeCustomerId: "cus_A1", email: "ada@example.com" }] });
    const first = await merchant().sessionTokens.create({ externalUserId: "user_1", email: "ada@example.com" });
    h.clock.advance(1000);
    await merchant().sessionTokens.revoke({ tokenId: first.tokenId });
    h.clock.advance(1000);
    const second = await merchant().sessionTokens.create({ externalUserId: "user_1" });
    h.clock.advance(1000);
    await sessionCaller(h, second.sessionToken).session.signOut();
    h.clock.advance(1000);
    await merchant().sessionTokens.create({ externalUserId: "user_1" });
    h.clock.advance(1000);
    await merchant().sessionTokens.revokeForCustomer({ externalUserId: "user_1" });

    const page = await merchant().audit.listForCustomer({ externalUserId: "user_1" });
    expect(actions(page)).toEqual([
      "session_token.revoked_for_customer",
      "session_token.created",
      "session_token.signed_out",
      "session_token.created",
      "session_token.revoked",
      "session_token.created",
      "customer.bound",
    ]);
    const byAction = (action: string) => page.data.filter((event) => event.action === action);
    expect(byAction("customer.bound")[0]).toMatchObject({
      subjectId: "cus_A1",
      details: { method: "email" },
      actor: { type: "api_key", id: h.testKey.id },
    });
    expect(byAction("session_token.signed_out")[0]).toMatchObject({
      subjectId: second.tokenId,
      actor: { type: "session_token", id: second.tokenId },
    });
    expect(byAction("session_token.revoked")[0]).toMatchObject({
      subjectId: first.tokenId,
      actor: { type: "api_key" },
    });
    expect(page.data[0]!.occurredAt).toBe(new Date(h.clock.now()).toISOString());
  });

  it("a second revoke of the same token adds no event (revocation is audited once)", async () => {
    const token = await merchant().sessionTokens.create({ externalUserId: "user_2" });
    await merchant().sessionTokens.revoke({ tokenId: token.tokenId });
    await merchant().sessionTokens.revoke({ sessionToken: token.sessionToken });
    expect(actions(await merchant().audit.listForCustomer({ externalUserId: "user_2" }))).toEqual([
      "session_token.revoked",
      "session_token.created",
    ]);
  });

  it("records key revocation against each token it revoked, by the operator", async () => {
    const key = await createApiKey(h.store, h.clock, { organizationName: "Acme", environment: "test" });
    const token = await h.caller(key.secretKey).sessionTokens.create({ externalUserId: "user_3" });
    await revokeApiKey(h.store, h.clock, key.id);
    const page = await merchant().audit.listForCustomer({ externalUserId: "user_3" });
    expect(page.data[0]).toMatchObject({
      action: "session_token.revoked_by_key_revocation",
      subjectId: token.tokenId,
      actor: { type: "operator", id: null },
    });
  });

  it("pages with a cursor without repeating or skipping events", async () => {
    for (let i = 0; i < 7; i++) await merchant().sessionTokens.create({ externalUserId: "user_4" });
    const first = await merchant().audit.listForCustomer({ externalUserId: "user_4", limit: 4 });
    const second = await merchant().audit.listForCustomer({
      externalUserId: "user_4",
      limit: 4,
      cursor: first.nextCursor!,
    });
    expect(first.data).toHaveLength(4);
    expect(second.data).toHaveLength(3);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.data, ...second.data].map((event) => event.id)).size).toBe(7);
  });

  it("another organization or environment sees none of it", async () => {
    await merchant().sessionTokens.create({ externalUserId: "user_5" });
    for (const key of [h.liveKey, h.otherOrgKey]) {
      expect((await h.caller(key.secretKey).audit.listForCustomer({ externalUserId: "user_5" })).data).toEqual([]);
    }
  });

  it("outlives the token's purge, and is purged with the audit retention once the token is gone", async () => {
    await merchant().sessionTokens.create({ externalUserId: "user_6", expiresIn: 60 });
    const retention = { tokenRetentionMs: 7 * 86_400_000, auditRetentionMs: 90 * 86_400_000 };
    h.clock.advance(60_000 + retention.tokenRetentionMs + 1);
    expect(await purgeExpired(h.store, h.clock, retention)).toEqual({ sessionTokens: 1, auditEvents: 0 });
    expect((await merchant().audit.listForCustomer({ externalUserId: "user_6" })).data).toHaveLength(1);
    h.clock.set(START_TIME + retention.auditRetentionMs + 1);
    expect(await purgeExpired(h.store, h.clock, retention)).toEqual({ sessionTokens: 0, auditEvents: 1 });
    expect((await merchant().audit.listForCustomer({ externalUserId: "user_6" })).data).toEqual([]);
  });
});
