import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { purgeIdempotencyRecords } from "../../src/idempotency/idempotency.retention.js";
import { IDEMPOTENCY_WINDOW_MS } from "../../src/idempotency/idempotency-key.js";
import { schedulePurge } from "../../src/session-tokens/session-tokens.retention.js";
import type { Queryable } from "../../src/store/queryable.js";
import { createContextInner } from "../../src/trpc/context.js";
import { appRouter } from "../../src/trpc/router.js";
import { createCallerFactory } from "../../src/trpc/trpc.js";
import { stripeCustomer } from "../customers/support.js";
import { countSessionTokens, createHarness, type Harness, rejectionOf } from "../harness.js";

// Idempotency-Key on the merchant mutations (SPEC §9), through the real router on the run's engine.

const createCaller = createCallerFactory(appRouter);

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

/** A caller whose every call carries `idempotencyKey` as the HTTP layer would pass it. */
const withKey = (secretKey: string, idempotencyKey: string | undefined) =>
  createCaller(createContextInner(h.deps, { authorization: `Bearer ${secretKey}`, idempotencyKey }));

async function countRows(db: Queryable, table: "idempotency_keys" | "audit_events"): Promise<number> {
  const row = await db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("the same key and the same request", () => {
  it("answers the first answer again and creates one token", async () => {
    const first = await withKey(h.testKey.secretKey, "key-1").sessionTokens.create({
      externalUserId: "user_1",
      expiresIn: 600,
    });
    const auditEvents = await countRows(h.store, "audit_events");
    h.clock.advance(60_000);
    const again = await withKey(h.testKey.secretKey, "key-1").sessionTokens.create({
      externalUserId: "user_1",
      expiresIn: 600,
    });
    expect(again).toEqual(first);
    expect(await countSessionTokens(h.store)).toBe(1);
    expect(await countRows(h.store, "audit_events")).toBe(auditEvents);
  });

  it("treats the same fields sent in another order as the same request", async () => {
    const first = await withKey(h.testKey.secretKey, "key-2").sessionTokens.create({
      externalUserId: "user_1",
      metadata: { a: 1, b: 2 },
    });
    const again = await withKey(h.testKey.secretKey, "key-2").sessionTokens.create({
      metadata: { b: 2, a: 1 },
      externalUserId: "user_1",
    });
    expect(again).toEqual(first);
    expect(await countSessionTokens(h.store)).toBe(1);
  });

  it("replays a revocation, an import and a bind without doing them twice", async () => {
    const acme = withKey(h.testKey.secretKey, undefined);
    const token = await acme.sessionTokens.create({ externalUserId: "user_1" });
    const revoked = await withKey(h.testKey.secretKey, "revoke-1").sessionTokens.revoke({ tokenId: token.tokenId });
    h.clock.advance(5_000);
    expect(await withKey(h.testKey.secretKey, "revoke-1").sessionTokens.revoke({ tokenId: token.tokenId })).toEqual(
      revoked,
    );

    const batch = { customers: [stripeCustomer("a"), stripeCustomer("b")] };
    const imported = await withKey(h.testKey.secretKey, "import-1").customers.import(batch);
    expect(imported.created).toBe(2);
    // Run again, the import would report the two as unchanged; the replay says what the first run did.
    expect(await withKey(h.testKey.secretKey, "import-1").customers.import(batch)).toEqual(imported);

    const bound = await withKey(h.testKey.secretKey, "bind-1").customers.bind({
      stripeCustomerId: "cus_a",
      externalUserId: "user_a",
    });
    const auditEvents = await countRows(h.store, "audit_events");
    expect(
      await withKey(h.testKey.secretKey, "bind-1").customers.bind({
        stripeCustomerId: "cus_a",
        externalUserId: "user_a",
      }),
    ).toEqual(bound);
    expect(await countRows(h.store, "audit_events")).toBe(auditEvents);
  });

  it("replays a revocation of a customer's tokens and an unbind", async () => {
    const acme = withKey(h.testKey.secretKey, undefined);
    await acme.sessionTokens.create({ externalUserId: "user_1" });
    const revoked = await withKey(h.testKey.secretKey, "all-1").sessionTokens.revokeForCustomer({
      externalUserId: "user_1",
    });
    expect(revoked.revokedCount).toBe(1);
    h.clock.advance(1_000);
    // Run again it would revoke 0 at a later time; the replay answers what the first call did.
    expect(
      await withKey(h.testKey.secretKey, "all-1").sessionTokens.revokeForCustomer({ externalUserId: "user_1" }),
    ).toEqual(revoked);

    await acme.customers.import({ customers: [stripeCustomer("u")] });
    await acme.customers.bind({ stripeCustomerId: "cus_u", externalUserId: "user_u" });
    const unbound = await withKey(h.testKey.secretKey, "unbind-1").customers.unbind({ stripeCustomerId: "cus_u" });
    const auditEvents = await countRows(h.store, "audit_events");
    expect(await withKey(h.testKey.secretKey, "unbind-1").customers.unbind({ stripeCustomerId: "cus_u" })).toEqual(
      unbound,
    );
    expect(await countRows(h.store, "audit_events")).toBe(auditEvents);
  });

  it("records nothing for a request sent without a key", async () => {
    await withKey(h.testKey.secretKey, undefined).sessionTokens.create({ externalUserId: "user_1" });
    expect(await countRows(h.store, "idempotency_keys")).toBe(0);
  });
});

describe("the same key and a different request", () => {
  it("is a CONFLICT that says so, and does nothing", async () => {
    await withKey(h.testKey.secretKey, "key-1").sessionTokens.create({ externalUserId: "user_1" });
    const refused = await rejectionOf(
      withKey(h.testKey.secretKey, "key-1").sessionTokens.create({ externalUserId: "user_2" }),
    );
    expect(refused.data).toMatchObject({ code: "CONFLICT", httpStatus: 409 });
    expect(refused.message).toMatch(/Idempotency-Key was already used for a different request/);
    expect(await countSessionTokens(h.store)).toBe(1);
  });

  it("is a CONFLICT on another procedure too", async () => {
    const token = await withKey(h.testKey.secretKey, "key-1").sessionTokens.create({ externalUserId: "user_1" });
    const refused = await rejectionOf(
      withKey(h.testKey.secretKey, "key-1").sessionTokens.revoke({ tokenId: token.tokenId }),
    );
    expect(refused.data.code).toBe("CONFLICT");
    const [listed] = (await withKey(h.testKey.secretKey, undefined).sessionTokens.list({ externalUserId: "user_1" }))
      .data;
    expect(listed?.status).toBe("active");
  });
});

describe("scope", () => {
  it("keeps keys apart per organization and per environment", async () => {
    const acmeTest = await withKey(h.testKey.secretKey, "shared-key").sessionTokens.create({
      externalUserId: "user_1",
    });
    const acmeLive = await withKey(h.liveKey.secretKey, "shared-key").sessionTokens.create({
      externalUserId: "user_1",
    });
    const globex = await withKey(h.otherOrgKey.secretKey, "shared-key").sessionTokens.create({
      externalUserId: "user_1",
    });
    expect(new Set([acmeTest.tokenId, acmeLive.tokenId, globex.tokenId]).size).toBe(3);
    expect(await countSessionTokens(h.store)).toBe(3);
  });
});

describe("concurrency", () => {
  it("does the work once for requests with one key at the same moment, and answers each the same", async () => {
    const input = { externalUserId: "user_1", email: "user_1@example.com" };
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => withKey(h.testKey.secretKey, "burst").sessionTokens.create(input)),
    );
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await countSessionTokens(h.store)).toBe(1);
    expect(await countRows(h.store, "idempotency_keys")).toBe(1);
  });

  it("lets requests with different keys run side by side", async () => {
    await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        withKey(h.testKey.secretKey, `key-${i}`).sessionTokens.create({ externalUserId: "user_1" }),
      ),
    );
    expect(await countSessionTokens(h.store)).toBe(4);
  });
});

describe("what is recorded", () => {
  it("records no refusal: a retry with the same key runs again once the cause is gone", async () => {
    const refused = await rejectionOf(
      withKey(h.testKey.secretKey, "bind-2").customers.bind({ stripeCustomerId: "cus_late", externalUserId: "user_9" }),
    );
    expect(refused.data.code).toBe("NOT_FOUND");
    expect(await countRows(h.store, "idempotency_keys")).toBe(0);
    await withKey(h.testKey.secretKey, undefined).customers.import({ customers: [stripeCustomer("late")] });
    const bound = await withKey(h.testKey.secretKey, "bind-2").customers.bind({
      stripeCustomerId: "cus_late",
      externalUserId: "user_9",
    });
    expect(bound.externalUserId).toBe("user_9");
  });

  it("records no dry run (it wrote nothing)", async () => {
    const dry = await withKey(h.testKey.secretKey, "dry").customers.import({
      customers: [stripeCustomer("d")],
      dryRun: true,
    });
    expect(dry.dryRun).toBe(true);
    expect(await countRows(h.store, "idempotency_keys")).toBe(0);
  });

  it("stores neither the key nor the created token in a readable form", async () => {
    const key = "a-key-that-must-not-be-stored";
    const created = await withKey(h.testKey.secretKey, key).sessionTokens.create({ externalUserId: "user_1" });
    const rows = await h.store.kysely.selectFrom("idempotency_keys").selectAll().execute();
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(created.sessionToken);
    expect(Buffer.from(rows[0]!.answer, "base64").toString("latin1")).not.toContain(created.sessionToken);
  });
});

describe("expiry and purge", () => {
  it("replays for 24 hours, then does the work again under the same key", async () => {
    const first = await withKey(h.testKey.secretKey, "day").sessionTokens.create({ externalUserId: "user_1" });
    h.clock.advance(IDEMPOTENCY_WINDOW_MS - 1);
    expect(await withKey(h.testKey.secretKey, "day").sessionTokens.create({ externalUserId: "user_1" })).toEqual(first);
    h.clock.advance(1);
    const later = await withKey(h.testKey.secretKey, "day").sessionTokens.create({ externalUserId: "user_1" });
    expect(later.tokenId).not.toBe(first.tokenId);
    expect(await countSessionTokens(h.store)).toBe(2);
    // The key now replays the new answer, and refuses another body, for its next 24 hours.
    expect(await withKey(h.testKey.secretKey, "day").sessionTokens.create({ externalUserId: "user_1" })).toEqual(later);
    expect(
      (await rejectionOf(withKey(h.testKey.secretKey, "day").sessionTokens.create({ externalUserId: "x" }))).data.code,
    ).toBe("CONFLICT");
  });

  it("purges records past 24 hours and keeps younger ones", async () => {
    await withKey(h.testKey.secretKey, "old").sessionTokens.create({ externalUserId: "user_1" });
    h.clock.advance(60 * 60 * 1000);
    await withKey(h.testKey.secretKey, "young").sessionTokens.create({ externalUserId: "user_1" });
    h.clock.advance(IDEMPOTENCY_WINDOW_MS - 60 * 60 * 1000);
    expect(await purgeIdempotencyRecords(h.store, h.clock)).toBe(0);
    h.clock.advance(1);
    expect(await purgeIdempotencyRecords(h.store, h.clock)).toBe(1);
    expect(await countRows(h.store, "idempotency_keys")).toBe(1);
    h.clock.advance(60 * 60 * 1000);
    expect(await purgeIdempotencyRecords(h.store, h.clock)).toBe(1);
    expect(await countRows(h.store, "idempotency_keys")).toBe(0);
  });

  it("is part of the scheduled retention pass", async () => {
    await withKey(h.testKey.secretKey, "scheduled").sessionTokens.create({ externalUserId: "user_1" });
    h.clock.advance(IDEMPOTENCY_WINDOW_MS + 1);
    const stop = schedulePurge(h.deps, {
      tokenRetentionMs: 7 * IDEMPOTENCY_WINDOW_MS,
      auditRetentionMs: 90 * IDEMPOTENCY_WINDOW_MS,
    });
    try {
      await expect.poll(() => countRows(h.store, "idempotency_keys"), { timeout: 5_000 }).toBe(0);
    } finally {
      stop();
    }
    // The token itself is kept (its own retention is longer): only the key's record went.
    expect(await countSessionTokens(h.store)).toBe(1);
  });
});

describe("bad keys", () => {
  it.each([
    ["empty", "", /empty/],
    ["256 characters", "k".repeat(256), /256 characters long; at most 255/],
    ["a control character", "key\u0001", /printable ASCII/],
    ["a non-ASCII character", "clé", /printable ASCII/],
  ])("refuses a key that is %s with a 400, doing nothing", async (_what, key, message) => {
    const refused = await rejectionOf(
      withKey(h.testKey.secretKey, key).sessionTokens.create({ externalUserId: "user_1" }),
    );
    expect(refused.data).toMatchObject({ code: "BAD_REQUEST", httpStatus: 400 });
    expect(refused.message).toMatch(message);
    expect(await countSessionTokens(h.store)).toBe(0);
  });

  it("takes a key of exactly 255 characters", async () => {
    await withKey(h.testKey.secretKey, "k".repeat(255)).sessionTokens.create({ externalUserId: "user_1" });
    expect(await countRows(h.store, "idempotency_keys")).toBe(1);
  });
});
