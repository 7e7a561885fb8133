import { sql } from "kysely";
import pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { apiKeyLockKey } from "../../src/api-keys/api-key-still-active.js";
import { type CreatedApiKey, createApiKey, revokeApiKey } from "../../src/api-keys/api-keys.service.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { createContextInner } from "../../src/trpc/context.js";
import { appRouter } from "../../src/trpc/router.js";
import { createCallerFactory } from "../../src/trpc/trpc.js";
import { START_TIME } from "../harness.js";
import { describeOnPostgres } from "../support/postgres-databases.js";
import { openSharedTestStores, type SharedTestStores } from "../support/test-store.js";

// SPEC §8: correct without a single writer. PostgreSQL runs transactions side by side under READ
// COMMITTED, so each race below is forced: two stores (two pools, as two hosts have) start the same
// kind of write while a third connection holds what they will need, until both have read and are
// waiting; then it lets go. Each test then checks the invariant in SQL.

const describePostgres = await describeOnPostgres();
const createCaller = createCallerFactory(appRouter);

describePostgres("races between two hosts on one PostgreSQL database", () => {
  let shared: SharedTestStores;
  let hostA: Store;
  let hostB: Store;
  let key: CreatedApiKey;
  let holder: pg.Client;
  const clock = new ManualClock(START_TIME);

  beforeEach(async () => {
    shared = await openSharedTestStores(2);
    [hostA, hostB] = shared.stores as [Store, Store];
    key = await createApiKey(hostA, clock, { organizationName: "Acme", environment: "test" });
    holder = new pg.Client({ connectionString: shared.databaseEnv.DATABASE_URL });
    await holder.connect();
  });
  afterEach(async () => {
    await holder.end();
    await shared.close();
  });

  const api = (store: Store) =>
    createCaller(
      createContextInner(
        { store, clock, logger: createLogger("silent") },
        { authorization: `Bearer ${key.secretKey}` },
      ),
    );

  /** Holds `lock` (SQL run in an open transaction) until `waiters` other transactions wait for a lock, then lets go. */
  async function holdWhile<T>(
    lock: { sql: string; values?: unknown[] },
    waiters: number,
    race: () => Promise<T>,
  ): Promise<T> {
    await holder.query("begin");
    await holder.query(lock.sql, lock.values);
    const raced = race();
    raced.catch(() => {});
    await waitersReach(waiters);
    await holder.query("rollback");
    return raced;
  }

  const customersLock = () => ({
    sql: "select pg_advisory_xact_lock(hashtextextended($1, 0))",
    values: [`customers:${key.organizationId}:test`],
  });

  async function expectBindingInvariants(): Promise<void> {
    const twice = await sql<{ external_user_id: string }>`
      select external_user_id from imported_customers where external_user_id is not null
      group by organization_id, environment, external_user_id having count(*) > 1`.execute(hostA.kysely);
    expect(twice.rows, "a user bound to two customers").toEqual([]);
    const { rows } = await sql<{ counter: number; unbound: number }>`
      select coalesce((select unresolved_count from customer_binding_counts where organization_id = ${key.organizationId} and environment = 'test'), 0) as counter,
             (select count(*) from imported_customers where organization_id = ${key.organizationId} and environment = 'test' and external_user_id is null) as unbound`.execute(
      hostA.kysely,
    );
    expect(rows[0]!.counter, "the counter equals the unbound customers").toBe(rows[0]!.unbound);
  }

  it("one user creating tokens with two emails at once on two hosts is bound to one customer", async () => {
    await api(hostA).customers.import({
      customers: [
        { stripeCustomerId: "cus_1", email: "one@example.com" },
        { stripeCustomerId: "cus_2", email: "two@example.com" },
      ],
    });
    const created = await holdWhile(customersLock(), 2, () =>
      Promise.all([
        api(hostA).sessionTokens.create({ externalUserId: "user_1", email: "one@example.com" }),
        api(hostB).sessionTokens.create({ externalUserId: "user_1", email: "two@example.com" }),
      ]),
    );
    expect(created.map((token) => token.unresolvedCustomers)).toEqual([1, 1]);
    const bound = await hostA.kysely
      .selectFrom("imported_customers")
      .select("stripe_customer_id")
      .where("external_user_id", "=", "user_1")
      .execute();
    expect(bound).toHaveLength(1);
    await expectBindingInvariants();
  });

  it("two users claiming one customer's email at once on two hosts: one binds it, the other does not", async () => {
    await api(hostA).customers.import({ customers: [{ stripeCustomerId: "cus_1", email: "shared@example.com" }] });
    await holdWhile(customersLock(), 2, () =>
      Promise.all([
        api(hostA).sessionTokens.create({ externalUserId: "user_a", email: "shared@example.com" }),
        api(hostB).sessionTokens.create({ externalUserId: "user_b", email: "shared@example.com" }),
      ]),
    );
    const row = await hostA.kysely
      .selectFrom("imported_customers")
      .select("external_user_id")
      .executeTakeFirstOrThrow();
    expect(["user_a", "user_b"]).toContain(row.external_user_id);
    const bindings = await hostA.kysely
      .selectFrom("audit_events")
      .select("id")
      .where("action", "=", "customer.bound")
      .execute();
    expect(bindings).toHaveLength(1);
    await expectBindingInvariants();
  });

  it("two revocations of one token at once on two hosts both answer the first revocation's time, audited once", async () => {
    const token = await api(hostA).sessionTokens.create({ externalUserId: "user_1" });
    clock.advance(1_000);
    const answers = await holdWhile(
      { sql: "select id from session_tokens where id = $1 for update", values: [token.tokenId] },
      2,
      () =>
        Promise.all([
          api(hostA).sessionTokens.revoke({ tokenId: token.tokenId }),
          api(hostB).sessionTokens.revoke({ tokenId: token.tokenId }),
        ]),
    );
    expect(answers[0]!.revokedAt).toEqual(answers[1]!.revokedAt);
    const events = await hostA.kysely
      .selectFrom("audit_events")
      .select("id")
      .where("action", "=", "session_token.revoked")
      .where("subject_id", "=", token.tokenId)
      .execute();
    expect(events).toHaveLength(1);
  });

  it("two import batches carrying one Stripe id at once on two hosts store it once", async () => {
    const reports = await holdWhile(customersLock(), 2, () =>
      Promise.all([
        api(hostA).customers.import({ customers: [{ stripeCustomerId: "cus_X", email: "x@example.com" }] }),
        api(hostB).customers.import({ customers: [{ stripeCustomerId: "cus_X", email: "y@example.com" }] }),
      ]),
    );
    expect(reports.map((report) => report.created).sort()).toEqual([0, 1]);
    expect(reports.map((report) => report.updated).sort()).toEqual([0, 1]);
    const rows = await hostA.kysely.selectFrom("imported_customers").select("stripe_customer_id").execute();
    expect(rows).toEqual([{ stripe_customer_id: "cus_X" }]);
    await expectBindingInvariants();
  });

  it("a bind by hand racing a lazy bind of the same customer binds it once, and the loser gets its typed answer", async () => {
    await api(hostA).customers.import({ customers: [{ stripeCustomerId: "cus_1", email: "one@example.com" }] });
    const [manual, lazy] = await holdWhile(customersLock(), 2, () =>
      Promise.allSettled([
        api(hostA).customers.bind({ stripeCustomerId: "cus_1", externalUserId: "user_hand" }),
        api(hostB).sessionTokens.create({ externalUserId: "user_lazy", email: "one@example.com" }),
      ]),
    );
    expect(lazy.status).toBe("fulfilled");
    if (manual.status === "rejected") expect(manual.reason).toMatchObject({ code: "CONFLICT" });
    const row = await hostA.kysely
      .selectFrom("imported_customers")
      .select("external_user_id")
      .executeTakeFirstOrThrow();
    expect(row.external_user_id).toBe(manual.status === "fulfilled" ? "user_hand" : "user_lazy");
    await expectBindingInvariants();
  });

  it("one organization created from two hosts at once is one organization", async () => {
    // The holder inserts the name first, uncommitted: both hosts find no such organization, and
    // their inserts wait on the unique name; the holder then rolls back.
    await holder.query("begin");
    await holder.query("insert into organizations (id, name, created_at) values ('org_holder', 'Initech', 0)");
    const raced = Promise.all([
      createApiKey(hostA, clock, { organizationName: "Initech", environment: "test" }),
      createApiKey(hostB, clock, { organizationName: "Initech", environment: "live" }),
    ]);
    await waitersReach(2);
    await holder.query("rollback");
    const [a, b] = await raced;
    expect(a.organizationId).toBe(b.organizationId);
    const organizations = await hostA.kysely
      .selectFrom("organizations")
      .select("id")
      .where("name", "=", "Initech")
      .execute();
    expect(organizations).toHaveLength(1);
  });

  /**
   * Resolves once `waiters` transactions of this test's database wait for a lock, or fails after
   * 10 s. Counted by backend (a row lock's wait names no database), so that other test files
   * running on the same server at the same time are not counted.
   */
  async function waitersReach(waiters: number): Promise<void> {
    for (let waited = 0; ; waited += 10) {
      const { rows } = await holder.query<{ n: number }>(
        `select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
         where not l.granted and a.datname = current_database()`,
      );
      if (rows[0]!.n >= waiters) return;
      if (waited > 10_000) throw new Error(`only ${rows[0]!.n} of ${waiters} transactions came to wait`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async function liveTokensOfKey(): Promise<unknown[]> {
    return hostA.kysely
      .selectFrom("session_tokens")
      .select("id")
      .where("api_key_id", "=", key.id)
      .where("revoked_at", "is", null)
      .execute();
  }

  it("a creation that binds, on one host while another revokes its key, is refused or swept: no live token of a revoked key", async () => {
    // A customer awaits a bind and the creation gives its email: the creation runs as a unit that
    // holds the key's lock shared from BEGIN, which the revocation holds exclusively.
    await api(hostA).customers.import({ customers: [{ stripeCustomerId: "cus_1", email: "ada@example.com" }] });
    const created = await holdWhile(
      { sql: "select pg_advisory_xact_lock(hashtextextended($1, 0))", values: [apiKeyLockKey(key.id)] },
      2,
      () =>
        Promise.allSettled([
          api(hostA).sessionTokens.create({ externalUserId: "user_1", email: "ada@example.com" }),
          revokeApiKey(hostB, clock, key.id),
        ]),
    );
    expect(created[1].status).toBe("fulfilled");
    if (created[0].status === "rejected") expect(created[0].reason).toMatchObject({ code: "UNAUTHORIZED" });
    expect(await liveTokensOfKey()).toEqual([]);
  });

  it("a creation in one statement, on one host while another has marked its key revoked, waits for that revocation and is refused", async () => {
    const earlier = await api(hostA).sessionTokens.create({ externalUserId: "user_0" });
    await holder.query("begin");
    // The revocation marks the key revoked (holding the key's row), then its sweep waits on this row.
    await holder.query("select id from session_tokens where id = $1 for update", [earlier.tokenId]);
    const revoking = revokeApiKey(hostB, clock, key.id);
    revoking.catch(() => {});
    await waitersReach(1);
    // The creation's guard reads the key FOR SHARE: it waits for the revocation, then reads it revoked.
    const creating = api(hostA).sessionTokens.create({ externalUserId: "user_1" });
    creating.catch(() => {});
    await waitersReach(2);
    await holder.query("rollback");
    await expect(creating).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    expect((await revoking).revokedSessionTokens).toBe(1);
    expect(await liveTokensOfKey()).toEqual([]);
  });

  it("a revocation on one host while a one-statement creation holds its key waits for it, then sweeps the token", async () => {
    await holder.query("begin");
    // The creation's statement reads the key FOR SHARE, stores its rows, then checks its foreign keys
    // at the statement's end: this lock on the organization's row holds it there, the key still held.
    await holder.query("select id from organizations where id = $1 for update", [key.organizationId]);
    const creating = api(hostA).sessionTokens.create({ externalUserId: "user_1" });
    creating.catch(() => {});
    await waitersReach(1);
    // The revocation's update of the key waits for the creation's FOR SHARE.
    const revoking = revokeApiKey(hostB, clock, key.id);
    revoking.catch(() => {});
    await waitersReach(2);
    await holder.query("rollback");
    const created = await creating;
    expect((await revoking).revokedSessionTokens).toBe(1);
    expect(await liveTokensOfKey()).toEqual([]);
    const swept = await hostA.kysely
      .selectFrom("session_tokens")
      .select("revocation_reason")
      .where("id", "=", created.tokenId)
      .executeTakeFirstOrThrow();
    expect(swept.revocation_reason).toBe("key_revoked");
  });

  it("creations streaming on one host while another revokes their key: every creation is refused or swept", async () => {
    // Not forced (the order above is): a shaker of the interleavings left, where a creation's
    // statement holds the key FOR SHARE and the revocation's update of the key waits for it.
    for (let round = 0; round < 5; round++) {
      const roundKey = await createApiKey(hostA, clock, { organizationName: "Acme", environment: "test" });
      const caller = createCaller(
        createContextInner(
          { store: hostA, clock, logger: createLogger("silent") },
          { authorization: `Bearer ${roundKey.secretKey}` },
        ),
      );
      const creations = Array.from({ length: 40 }, (_, i) => caller.sessionTokens.create({ externalUserId: `u_${i}` }));
      const revocation = revokeApiKey(hostB, clock, roundKey.id);
      const outcomes = await Promise.allSettled(creations);
      const revoked = await revocation;
      for (const outcome of outcomes) {
        if (outcome.status === "rejected") expect(outcome.reason).toMatchObject({ code: "UNAUTHORIZED" });
      }
      const stored = await hostA.kysely
        .selectFrom("session_tokens")
        .select(({ fn }) => [fn.countAll<number>().as("all"), fn.count<number>("revoked_at").as("revoked")])
        .where("api_key_id", "=", roundKey.id)
        .executeTakeFirstOrThrow();
      expect(stored.all).toBe(outcomes.filter((outcome) => outcome.status === "fulfilled").length);
      expect(stored.revoked).toBe(stored.all);
      expect(revoked.revokedSessionTokens).toBe(stored.all);
    }
  });
});
