import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authenticateSecretKey, createApiKey, revokeApiKey } from "../../src/api-keys/api-keys.service.js";
import { unbindCustomer } from "../../src/customers/customer-unbinding.js";
import { actorOf, bindCustomerManually, importCustomers } from "../../src/customers/customers.service.js";
import { createSessionToken } from "../../src/session-tokens/session-tokens.create.js";
import { DomainError } from "../../src/shared/domain-error.js";
import { createHarness, type Harness } from "../harness.js";
import { makeTempDir, type TempDir } from "../reliability/support.js";
import { expectBareUnauthorized, sessionCaller } from "../session/support.js";
import { testEngine } from "../support/test-store.js";

// Issue: a key's revocation missed tokens whose creation was in flight. The key is authenticated
// before the write transaction; a creation authenticated before the revocation and stored after it
// must be refused, and a token of a revoked key must never verify.

let temp: TempDir;
let h: Harness;
beforeEach(async () => {
  temp = makeTempDir("billingos-key-revocation-");
  h = await createHarness();
});
afterEach(async () => {
  await h.close();
  temp.remove();
});

async function tokensOfKey(keyId: string): Promise<{ id: string; revoked_at: number | null }[]> {
  return h.store.kysely
    .selectFrom("session_tokens")
    .select(["id", "revoked_at"])
    .where("api_key_id", "=", keyId)
    .execute();
}

describe("a creation in flight while its key is revoked", () => {
  it("is refused with UNAUTHORIZED and stores nothing when the revocation commits first; a sibling of another key in the same commit succeeds", async () => {
    const key = await authenticateSecretKey(h.store, `Bearer ${h.testKey.secretKey}`);
    const other = await authenticateSecretKey(h.store, `Bearer ${h.liveKey.secretKey}`);
    // Both creations queue for the next group commit (it runs on the next turn of the event loop);
    // the revocation's transaction takes the connection first, so it commits before they run.
    const inFlight = createSessionToken(h.deps, key, { externalUserId: "user_1" });
    const sibling = createSessionToken(h.deps, other, { externalUserId: "user_1" });
    const revoked = revokeApiKey(h.store, h.clock, h.testKey.id);
    const outcome = await inFlight.then(
      (created) => ({ created }),
      (error: unknown) => ({ error }),
    );
    const { revokedSessionTokens } = await revoked;
    if (testEngine === "sqlite") {
      // The revocation's transaction takes the writer before the group commit runs.
      expect(outcome).toEqual({ error: expect.any(DomainError) });
    }
    if ("error" in outcome) {
      const error = outcome.error as DomainError;
      expect([error.code, error.message]).toEqual(["UNAUTHORIZED", "Unknown or revoked secret key"]);
      expect(revokedSessionTokens).toBe(0);
      expect(await tokensOfKey(h.testKey.id)).toEqual([]);
    } else {
      // PostgreSQL ran the creation first (it held the key's lock shared): the sweep revoked it.
      expect(revokedSessionTokens).toBe(1);
      expect(await tokensOfKey(h.testKey.id)).toEqual([
        { id: outcome.created.tokenId, revoked_at: expect.any(Number) },
      ]);
    }

    const created = await sibling;
    expect(
      await h.caller(h.liveKey.secretKey).sessionTokens.verify({ sessionToken: created.sessionToken }),
    ).toMatchObject({
      valid: true,
      tokenId: created.tokenId,
    });
  });
});

describe("a customer write authenticated before its key's revocation and run after it", () => {
  // The same race as token creation: the key is checked again inside the write transaction, so an
  // import, bind or unbind that was authenticated first and reaches the database after the
  // revocation's commit is refused and writes nothing.
  it("import, bind and unbind are refused with UNAUTHORIZED and change nothing", async () => {
    await h.caller(h.testKey.secretKey).customers.import({
      customers: [
        { stripeCustomerId: "cus_bound", email: "b@example.com" },
        { stripeCustomerId: "cus_free", email: "f@example.com" },
      ],
    });
    await h.caller(h.testKey.secretKey).customers.bind({ stripeCustomerId: "cus_bound", externalUserId: "user_b" });
    const key = await authenticateSecretKey(h.store, `Bearer ${h.testKey.secretKey}`);
    await revokeApiKey(h.store, h.clock, h.testKey.id);
    const before = await h.store.kysely.selectFrom("imported_customers").selectAll().orderBy("id").execute();
    const eventsBefore = (await h.store.kysely.selectFrom("audit_events").select("id").execute()).length;

    // Started together (on PostgreSQL they run side by side), each outcome taken at once.
    const refusals = await Promise.all(
      [
        importCustomers(h.deps, key, { customers: [{ stripeCustomerId: "cus_new", email: "n@example.com" }] }),
        bindCustomerManually(h.deps, key, { stripeCustomerId: "cus_free", externalUserId: "user_f" }, actorOf(key)),
        unbindCustomer(h.deps, key, { stripeCustomerId: "cus_bound" }, actorOf(key)),
      ].map((attempt) =>
        attempt.then(
          () => undefined,
          (refusal: unknown) => refusal,
        ),
      ),
    );
    for (const error of refusals) {
      expect(error).toBeInstanceOf(DomainError);
      expect([(error as DomainError).code, (error as DomainError).message]).toEqual([
        "UNAUTHORIZED",
        "Unknown or revoked secret key",
      ]);
    }
    expect(await h.store.kysely.selectFrom("imported_customers").selectAll().orderBy("id").execute()).toEqual(before);
    expect((await h.store.kysely.selectFrom("audit_events").select("id").execute()).length).toBe(eventsBefore);
  });
});

describe("verify of a token whose key is revoked", () => {
  it("answers revoked, and the browser gets a bare UNAUTHORIZED, even if the token's own row was left unrevoked", async () => {
    const second = await createApiKey(h.store, h.clock, { organizationName: "Acme", environment: "test" });
    const created = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    // The state the race left in databases written before the fix: the key revoked, its token not.
    await sql`update api_keys set revoked_at = ${h.clock.now()} where id = ${h.testKey.id}`.execute(h.store.kysely);
    expect(await tokensOfKey(h.testKey.id)).toEqual([{ id: created.tokenId, revoked_at: null }]);

    expect(await h.caller(second.secretKey).sessionTokens.verify({ sessionToken: created.sessionToken })).toEqual({
      valid: false,
      reason: "revoked",
    });
    await expectBareUnauthorized(sessionCaller(h, created.sessionToken).session.get());
  });

  it("tokens of the organization's other keys stay valid", async () => {
    const second = await createApiKey(h.store, h.clock, { organizationName: "Acme", environment: "test" });
    const ofSecond = await h.caller(second.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    await revokeApiKey(h.store, h.clock, h.testKey.id);
    expect(
      await h.caller(second.secretKey).sessionTokens.verify({ sessionToken: ofSecond.sessionToken }),
    ).toMatchObject({
      valid: true,
    });
    expect(await sessionCaller(h, ofSecond.sessionToken).session.get()).toMatchObject({ tokenId: ofSecond.tokenId });
  });
});

describe("upgrading a database where the race left tokens of a revoked key unrevoked", () => {
  it("revokes them as the key's revocation would have, audited, and leaves every other token alone", async () => {
    const second = await createApiKey(h.store, h.clock, { organizationName: "Acme", environment: "test" });
    const leaked = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    const ofSecond = await h.caller(second.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    await sql`update api_keys set revoked_at = ${h.clock.now()} where id = ${h.testKey.id}`.execute(h.store.kysely);
    // The state of such a database: this migration not yet applied.
    await h.store.kysely
      .deleteFrom("kysely_migration" as never)
      .where("name" as never, "=", "2026-12-02-0011-revoke-tokens-of-revoked-keys" as never)
      .execute();
    expect(await h.store.migrate()).toEqual(["2026-12-02-0011-revoke-tokens-of-revoked-keys"]);

    const rows = await h.store.kysely
      .selectFrom("session_tokens")
      .select(["id", "revocation_reason"])
      .where("revoked_at", "is not", null)
      .execute();
    expect(rows).toEqual([{ id: leaked.tokenId, revocation_reason: "key_revoked" }]);
    const listed = await h.caller(second.secretKey).sessionTokens.list({ externalUserId: "user_1" });
    expect(listed.data.map((token) => [token.tokenId, token.status])).toEqual([
      [ofSecond.tokenId, "active"],
      [leaked.tokenId, "revoked"],
    ]);
    const trail = await h.caller(second.secretKey).audit.listForCustomer({ externalUserId: "user_1" });
    expect(trail.data.filter((event) => event.subjectId === leaked.tokenId).map((event) => event.action)).toEqual([
      "session_token.revoked_by_key_revocation",
      "session_token.created",
    ]);
  });
});
