import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { revokeApiKey } from "../../src/api-keys/api-keys.service.js";
import { AUDIT_PURGE_BATCH } from "../../src/audit/audit-retention.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { purgeExpired, type RetentionSettings } from "../../src/session-tokens/session-tokens.retention.js";
import { createHarness, type Harness, START_TIME } from "../harness.js";

// Issue: the retention purge deleted every audit event older than the token retention, including
// the binding and key events of bindings and keys that still exist, and with TOKEN_RETENTION_DAYS=0
// the creation events of tokens still valid. Audit events now have their own retention and never
// go while their token, binding or key stands.

const DAY_MS = 86_400_000;
const DEFAULTS: RetentionSettings = { tokenRetentionMs: 7 * DAY_MS, auditRetentionMs: 90 * DAY_MS };

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const merchant = () => h.caller(h.testKey.secretKey);

async function eventsAbout(subjectId: string): Promise<string[]> {
  const rows = await h.store.kysely
    .selectFrom("audit_events")
    .select("action")
    .where("subject_id", "=", subjectId)
    .orderBy("id")
    .execute();
  return rows.map((row) => row.action);
}

async function countEvents(action: string): Promise<number> {
  const rows = await h.store.kysely
    .selectFrom("audit_events")
    .select("id")
    .where("action", "=", action as never)
    .execute();
  return rows.length;
}

describe("audit retention", () => {
  it("keeps the events of a stored token however old they are, and purges them once the token is gone and they are past the audit retention", async () => {
    const token = await merchant().sessionTokens.create({ externalUserId: "user_1", expiresIn: 60 });
    await merchant().sessionTokens.revoke({ tokenId: token.tokenId });
    h.clock.set(START_TIME + 1_000 * DAY_MS);

    // The token is still stored (a long token retention): its events stay.
    expect(
      await purgeExpired(h.store, h.clock, { tokenRetentionMs: 3_650 * DAY_MS, auditRetentionMs: 90 * DAY_MS }),
    ).toEqual({
      sessionTokens: 0,
      auditEvents: 0,
    });
    expect(await eventsAbout(token.tokenId)).toEqual(["session_token.created", "session_token.revoked"]);

    // Purged with the default retention: its events, older than 90 days, go in the same pass.
    expect(await purgeExpired(h.store, h.clock, DEFAULTS)).toEqual({ sessionTokens: 1, auditEvents: 2 });
    expect(await eventsAbout(token.tokenId)).toEqual([]);
  });

  it("TOKEN_RETENTION_DAYS=0 keeps the creation events of valid tokens, and of purged ones until the audit retention", async () => {
    const valid = await merchant().sessionTokens.create({ externalUserId: "user_1", expiresIn: 86_400 });
    const settings = { tokenRetentionMs: 0, auditRetentionMs: 90 * DAY_MS };
    h.clock.advance(3_600_000);
    expect(await purgeExpired(h.store, h.clock, settings)).toEqual({ sessionTokens: 0, auditEvents: 0 });
    expect(await eventsAbout(valid.tokenId)).toEqual(["session_token.created"]);
    // Even a retention shorter than the token's age leaves the events of a stored token alone.
    expect(await purgeExpired(h.store, h.clock, { tokenRetentionMs: 0, auditRetentionMs: 60_000 })).toEqual({
      sessionTokens: 0,
      auditEvents: 0,
    });
    expect(await merchant().sessionTokens.verify({ sessionToken: valid.sessionToken })).toMatchObject({ valid: true });

    // Expired and purged at once (zero token retention): the event stays its 90 days.
    h.clock.set(START_TIME + DAY_MS + 1);
    expect(await purgeExpired(h.store, h.clock, settings)).toEqual({ sessionTokens: 1, auditEvents: 0 });
    expect(await eventsAbout(valid.tokenId)).toEqual(["session_token.created"]);
    h.clock.set(START_TIME + 90 * DAY_MS);
    expect((await purgeExpired(h.store, h.clock, settings)).auditEvents).toBe(0);
    h.clock.advance(1);
    expect((await purgeExpired(h.store, h.clock, settings)).auditEvents).toBe(1);
    expect(await eventsAbout(valid.tokenId)).toEqual([]);
  });

  it("keeps customer.bound events while the binding stands, and purges them once it has ended", async () => {
    await merchant().customers.import({
      customers: [
        { stripeCustomerId: "cus_lazy", email: "ada@example.com" },
        { stripeCustomerId: "cus_hand", email: "bob@example.com" },
      ],
    });
    await merchant().sessionTokens.create({ externalUserId: "user_ada", email: "ada@example.com" });
    await merchant().customers.bind({ stripeCustomerId: "cus_hand", externalUserId: "user_bob" });
    h.clock.set(START_TIME + 1_000 * DAY_MS);

    // The token and its events go, and the import report (no standing subject); both bindings stay.
    expect(await purgeExpired(h.store, h.clock, DEFAULTS)).toEqual({ sessionTokens: 1, auditEvents: 2 });
    expect(await eventsAbout("cus_lazy")).toEqual(["customer.bound"]);
    expect(await eventsAbout("cus_hand")).toEqual(["customer.bound"]);
    expect(await countEvents("customers.imported")).toBe(0);
    const trail = await merchant().audit.listForCustomer({ externalUserId: "user_ada" });
    expect(trail.data.map((event) => [event.action, event.subjectId])).toEqual([["customer.bound", "cus_lazy"]]);

    // What ending a binding leaves: the customer no longer bound to that user.
    await sql`update imported_customers set external_user_id = null, bound_at = null, bound_by = null
               where stripe_customer_id = 'cus_hand'`.execute(h.store.kysely);
    expect(await purgeExpired(h.store, h.clock, DEFAULTS)).toEqual({ sessionTokens: 0, auditEvents: 1 });
    expect(await eventsAbout("cus_hand")).toEqual([]);
    expect(await eventsAbout("cus_lazy")).toEqual(["customer.bound"]);
  });

  it("keeps the events of every existing key, revoked ones included, whatever their age", async () => {
    await revokeApiKey(h.store, h.clock, h.liveKey.id);
    h.clock.set(START_TIME + 10_000 * DAY_MS);
    expect(await purgeExpired(h.store, h.clock, DEFAULTS)).toEqual({ sessionTokens: 0, auditEvents: 0 });
    expect(await eventsAbout(h.testKey.id)).toEqual(["api_key.created"]);
    expect(await eventsAbout(h.liveKey.id)).toEqual(["api_key.created", "api_key.revoked"]);
    expect(await eventsAbout(h.otherOrgKey.id)).toEqual(["api_key.created"]);
  });

  it("purges an import report exactly when it is older than the audit retention", async () => {
    await merchant().customers.import({ customers: [{ stripeCustomerId: "cus_1", email: "ada@example.com" }] });
    h.clock.set(START_TIME + 90 * DAY_MS);
    expect((await purgeExpired(h.store, h.clock, DEFAULTS)).auditEvents).toBe(0);
    expect(await countEvents("customers.imported")).toBe(1);
    h.clock.advance(1);
    expect((await purgeExpired(h.store, h.clock, DEFAULTS)).auditEvents).toBe(1);
    expect(await countEvents("customers.imported")).toBe(0);
  });

  it(`works through more than one window of ${AUDIT_PURGE_BATCH} events, stepping over the events it keeps`, async () => {
    // Old events of an existing key (kept) first, then events of tokens long gone (purgeable), then
    // kept ones again: every window holds some of each kind, and the walk must go past them all.
    const kept = Math.round(AUDIT_PURGE_BATCH * 1.5);
    const gone = Math.round(AUDIT_PURGE_BATCH * 2.3);
    const insert = (count: number, offset: number, action: string, subject: (i: string) => string) =>
      sql`with recursive n(i) as (select 0 union all select i + 1 from n where i + 1 < ${count})
          insert into audit_events (id, organization_id, environment, occurred_at, action, actor_type, actor_id, subject_id, external_user_id, details)
          select 'evt_seed_' || cast(${action} as text) || '_' || i, ${h.testKey.organizationId}, 'test', cast(${START_TIME} as bigint) - cast(${offset} as bigint) + (i % 7), cast(${action} as text),
                 'operator', null, ${sql.raw(subject("i"))}, null, null from n`.execute(h.store.kysely);
    await insert(kept, 3 * DAY_MS, "api_key.created", () => `'${h.testKey.id}'`);
    await insert(gone, 2 * DAY_MS, "session_token.created", (i) => `'tok_gone_' || ${i}`);
    await insert(kept, DAY_MS, "api_key.revoked", () => `'${h.testKey.id}'`);
    h.clock.set(START_TIME + 100 * DAY_MS);

    expect(await purgeExpired(h.store, h.clock, DEFAULTS)).toEqual({ sessionTokens: 0, auditEvents: gone });
    expect(await countEvents("session_token.created")).toBe(0);
    expect(await countEvents("api_key.created")).toBe(kept + 3);
    expect(await countEvents("api_key.revoked")).toBe(kept);
  });
});

describe("AUDIT_RETENTION_DAYS", () => {
  it("defaults to 90 days, apart from the token retention", () => {
    expect(loadConfig({ TOKEN_RETENTION_DAYS: "0" })).toMatchObject({
      tokenRetentionMs: 0,
      auditRetentionMs: 90 * DAY_MS,
    });
    expect(loadConfig({ AUDIT_RETENTION_DAYS: "400" }).auditRetentionMs).toBe(400 * DAY_MS);
  });

  it.each(["0", "-1", "1.5", "ninety", "36501"])("refuses %j with one line naming the setting", (value) => {
    const message = `Invalid configuration: AUDIT_RETENTION_DAYS must be a whole number from 1 to 36500 (got ${JSON.stringify(value)})`;
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: value })).toThrow(message);
  });
});
