import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { purgeExpiredSessionTokens, TOKEN_PURGE_BATCH } from "../src/session-tokens/session-tokens.retention.js";
import { countSessionTokens, createHarness, type Harness, START_TIME } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const DAY_MS = 86_400_000;
const RETENTION_MS = 7 * DAY_MS;

const api = (secretKey: string) => h.caller(secretKey).sessionTokens;

describe("purgeExpiredSessionTokens", () => {
  it("keeps tokens expired less than the retention ago and deletes older ones", async () => {
    // Expires at START + 60 s.
    const old = await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 60 });
    // Expires at START + 1 day.
    const recent = await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 86_400 });
    h.clock.set(START_TIME + 60_000 + RETENTION_MS + 1);

    expect(await purgeExpiredSessionTokens(h.store, h.clock, RETENTION_MS)).toBe(1);
    const { data } = await api(h.testKey.secretKey).list({ externalUserId: "user_1" });
    expect(data.map((token) => [token.tokenId, token.status])).toEqual([[recent.tokenId, "expired"]]);
    expect(await api(h.testKey.secretKey).verify({ sessionToken: old.sessionToken })).toEqual({
      valid: false,
      reason: "not_found",
    });
  });

  it("keeps a token expired exactly the retention ago, deletes it 1 ms later", async () => {
    await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 60 });
    h.clock.set(START_TIME + 60_000 + RETENTION_MS);
    expect(await purgeExpiredSessionTokens(h.store, h.clock, RETENTION_MS)).toBe(0);
    expect(await countSessionTokens(h.store)).toBe(1);
    h.clock.advance(1);
    expect(await purgeExpiredSessionTokens(h.store, h.clock, RETENTION_MS)).toBe(1);
    expect(await countSessionTokens(h.store)).toBe(0);
  });

  it("never deletes active tokens, nor revoked tokens that have not yet expired past retention", async () => {
    const acme = api(h.testKey.secretKey);
    await acme.create({ externalUserId: "user_1", expiresIn: 86_400 });
    const revoked = await acme.create({ externalUserId: "user_1", expiresIn: 86_400 });
    await acme.revoke({ tokenId: revoked.tokenId });
    h.clock.advance(DAY_MS - 1);
    // Zero retention: only tokens already expired would go, and none is.
    expect(await purgeExpiredSessionTokens(h.store, h.clock, 0)).toBe(0);
    expect(await countSessionTokens(h.store)).toBe(2);
  });

  it("purges across organizations and environments alike", async () => {
    await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 60 });
    await api(h.liveKey.secretKey).create({ externalUserId: "user_1", expiresIn: 60 });
    await api(h.otherOrgKey.secretKey).create({ externalUserId: "user_1", expiresIn: 60 });
    const kept = await api(h.otherOrgKey.secretKey).create({ externalUserId: "user_1", expiresIn: 86_400 });
    h.clock.set(START_TIME + 60_000 + RETENTION_MS + 1);
    expect(await purgeExpiredSessionTokens(h.store, h.clock, RETENTION_MS)).toBe(3);
    const { data } = await api(h.otherOrgKey.secretKey).list({ externalUserId: "user_1" });
    expect(data.map((token) => token.tokenId)).toEqual([kept.tokenId]);
  });

  it(`deletes more than ${TOKEN_PURGE_BATCH} tokens, a batch per transaction, and only those past retention`, async () => {
    const expired = Math.round(TOKEN_PURGE_BATCH * 2.4);
    await sql`with recursive n(i) as (select 0 union all select i + 1 from n where i + 1 < ${expired})
              insert into session_tokens (id, token_hash, organization_id, environment, api_key_id, external_user_id,
                                          created_at, expires_at)
              select 'tok_seed_' || i, 'hash_' || i, ${h.testKey.organizationId}, 'test', ${h.testKey.id}, 'user_' || i,
                     cast(${START_TIME} as bigint), cast(${START_TIME} as bigint) + 60000 + (i % 13) from n`.execute(
      h.store.kysely,
    );
    const active = await api(h.testKey.secretKey).create({ externalUserId: "user_1", expiresIn: 86_400 });
    h.clock.set(START_TIME + 60_000 + RETENTION_MS + 13);
    expect(await purgeExpiredSessionTokens(h.store, h.clock, RETENTION_MS)).toBe(expired);
    expect(await countSessionTokens(h.store)).toBe(1);
    expect(await api(h.testKey.secretKey).verify({ sessionToken: active.sessionToken })).toMatchObject({
      valid: false,
      reason: "expired",
    });
  });
});
