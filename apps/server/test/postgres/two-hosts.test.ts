import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../../src/api-keys/api-keys.service.js";
import { systemClock } from "../../src/shared/clock.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import type { Store } from "../../src/store/store.js";
import {
  type CallOutcome,
  call,
  dataOf,
  describeOutcome,
  errorLogLines,
  killAllServers,
  mapLimit,
  runWorkers,
  type ServerProcess,
  startServer,
} from "../reliability/support.js";
import {
  createEmptyPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
  postgresServerAddress,
  postgresUrlFor,
} from "../support/postgres-databases.js";
import { type PostgresProxy, startPostgresProxy } from "../support/postgres-proxy.js";
import { redisServerAvailable, startRedisServer, type TestRedisServer } from "../support/redis-server.js";

// SPEC §8 with two real hosts: two server processes (src/main.ts, as `pnpm start` runs it), each
// listening on its own loopback address, on one PostgreSQL database, under a mixed load spread over
// both. Every answer must be a success or a typed error, the invariants hold in SQL afterwards, a
// revocation on one host holds on the other, and a host killed under load costs the other nothing
// and loses no acknowledged write.

const describePostgres = await describeOnPostgres();

const CUSTOMERS = 60;
/** Imported rows a minute per key, shared by both hosts through Redis (the other limits are off). */
const IMPORT_LIMIT = 600;
const LOAD_MS = 3_000;
const IN_FLIGHT = 16;

describePostgres("two hosts on one PostgreSQL database", () => {
  let database: PostgresTestDatabase;
  let proxy: PostgresProxy;
  let redis: TestRedisServer | undefined;
  let startHost: (address: string) => Promise<ServerProcess>;
  let store: Store;
  let hosts: { A: ServerProcess; B: ServerProcess };
  let secretKey: string;
  const url = (side: "A" | "B") => hosts[side].url;
  const other = (side: "A" | "B") => (side === "A" ? "B" : "A");

  /** A typed answer: 200, or a 4xx/503 whose body names a tRPC error code. Never a 500, never silence. */
  function typed(outcome: CallOutcome): boolean {
    if (outcome.kind !== "response") return false;
    if (outcome.status === 200) return true;
    return (outcome.status < 500 || outcome.status === 503) && typeof outcome.body.error?.data?.code === "string";
  }

  beforeAll(async () => {
    database = await createEmptyPostgresDatabase();
    // The hosts reach PostgreSQL through a relay the test can cut, as a stopped server would be.
    proxy = await startPostgresProxy(postgresServerAddress());
    const hostsUrl = postgresUrlFor(database.name, proxy);
    const unusedFile = join(mkdtempSync(join(tmpdir(), "billingos-two-hosts-")), "unused.sqlite");
    // One Redis shared by both hosts for the rate limits (under CI a missing redis-server fails here;
    // elsewhere the hosts fall back to the database limiter, PostgreSQL's default, shared as well).
    redis = redisServerAvailable() || process.env.CI ? await startRedisServer() : undefined;
    const env = (address: string) => ({
      DATABASE_URL: hostsUrl,
      HOST: address,
      DATABASE_POOL_SIZE: "4",
      IMPORT_RATE_LIMIT_ROWS_PER_MINUTE: String(IMPORT_LIMIT),
      ...(redis ? { RATE_LIMIT_URL: redis.url } : {}),
    });
    startHost = (address) => startServer(unusedFile, env(address));
    // Both start at once on an EMPTY database: they migrate it once and make one development key.
    const [A, B] = await Promise.all([startHost("127.0.0.2"), startHost("127.0.0.3")]);
    hosts = { A, B };
    store = await openPostgresStore({ url: database.url, poolSize: 2, migrate: false });
  }, 120_000);

  afterAll(async () => {
    await killAllServers();
    await store?.close();
    await proxy?.close();
    await redis?.stop();
    await database?.drop();
  });

  it("two hosts starting together on an empty database migrate it once and print one development key", async () => {
    const printed = [hosts.A.developmentKey, hosts.B.developmentKey].filter((key) => key !== undefined);
    expect(printed).toHaveLength(1);
    secretKey = printed[0]!;
    expect(new URL(url("A")).hostname).toBe("127.0.0.2");
    expect(new URL(url("B")).hostname).toBe("127.0.0.3");
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from organizations`.execute(store.kysely);
    expect(rows[0]!.n).toBe(1);
  });

  it("a mixed load spread over both: every answer typed, nobody bound twice, the counter equals the unbound customers", async () => {
    const outcomes: { what: string; outcome: CallOutcome }[] = [];
    const record = (what: string, outcome: CallOutcome) => {
      outcomes.push({ what, outcome });
      return outcome;
    };
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => ({
      stripeCustomerId: `cus_${i}`,
      email: `c${i}@example.com`,
    }));
    // The same batch imported through both hosts at once (one Stripe id arriving twice).
    await Promise.all([
      call(url("A"), secretKey, "customers.import", { customers }).then((outcome) => record("import A", outcome)),
      call(url("B"), secretKey, "customers.import", { customers: [...customers].reverse() }).then((outcome) =>
        record("import B", outcome),
      ),
    ]);
    const until = Date.now() + LOAD_MS;
    let n = 0;
    await runWorkers(IN_FLIGHT, async (worker) => {
      if (Date.now() > until) return false;
      const i = n++;
      const side = worker % 2 === 0 ? "A" : "B";
      // Users claim customers by email (several users per email, some with two emails), so lazy
      // binds race across hosts; some are bound by hand at the same time.
      const user = `user_${i % 40}`;
      const email = `c${(i * 7) % CUSTOMERS}@example.com`;
      if (i % 9 === 0) {
        record(
          "bind",
          await call(url(side), secretKey, "customers.bind", {
            stripeCustomerId: `cus_${i % CUSTOMERS}`,
            externalUserId: `hand_${i % 25}`,
          }),
        );
        return true;
      }
      const created = record(
        "create",
        await call(url(side), secretKey, "sessionTokens.create", { externalUserId: user, email }),
      );
      if (created.kind !== "response" || created.status !== 200) return true;
      const token = dataOf<{ sessionToken: string; tokenId: string }>(created);
      record(
        "verify",
        await call(url(other(side)), secretKey, "sessionTokens.verify", { sessionToken: token.sessionToken }),
      );
      if (i % 3 === 0) {
        // Revoked on one host, refused by the other on the very next call.
        dataOf(record("revoke", await call(url(side), secretKey, "sessionTokens.revoke", { tokenId: token.tokenId })));
        const verdict = dataOf<{ valid: boolean; reason?: string }>(
          record(
            "verify revoked",
            await call(url(other(side)), secretKey, "sessionTokens.verify", { sessionToken: token.sessionToken }),
          ),
        );
        expect(verdict).toMatchObject({ valid: false, reason: "revoked" });
      }
      return true;
    });

    const untyped = outcomes
      .filter(({ outcome }) => !typed(outcome))
      .map(({ what, outcome }) => `${what}: ${describeOutcome(outcome)}`);
    expect(untyped, "answers that were neither a success nor a typed error").toEqual([]);
    const refusedBinds = outcomes.filter(
      ({ what, outcome }) => what === "bind" && outcome.kind === "response" && outcome.status !== 200,
    );
    for (const { outcome } of refusedBinds)
      expect(outcome.kind === "response" && outcome.body.error?.data?.code).toMatch(/^(CONFLICT|NOT_FOUND)$/);
    expect(
      outcomes.filter(({ what, outcome }) => what === "create" && outcome.kind === "response" && outcome.status === 200)
        .length,
    ).toBeGreaterThan(10);

    const twice = await sql`select external_user_id from imported_customers where external_user_id is not null
      group by organization_id, environment, external_user_id having count(*) > 1`.execute(store.kysely);
    expect(twice.rows, "a user bound to two customers").toEqual([]);
    const { rows } = await sql<{ counter: number; unbound: number; customers: number }>`
      select coalesce((select sum(unresolved_count) from customer_binding_counts), 0)::int as counter,
             (select count(*) from imported_customers where external_user_id is null)::int as unbound,
             (select count(*) from imported_customers)::int as customers`.execute(store.kysely);
    expect(rows[0]!.customers, "one row per Stripe id").toBe(CUSTOMERS);
    expect(rows[0]!.counter, "the counter equals the unbound customers").toBe(rows[0]!.unbound);
    expect([...errorLogLines(hosts.A), ...errorLogLines(hosts.B)]).toEqual([]);
  }, 60_000);

  it("a key revoked through one host's database is refused by both hosts within the notification's delay", async () => {
    const { secretKey: doomed, id } = await createApiKey(store, systemClock, {
      organizationName: "Doomed",
      environment: "test",
    });
    // Both hosts have the key in their cache.
    for (const side of ["A", "B"] as const)
      dataOf(await call(url(side), doomed, "sessionTokens.create", { externalUserId: "u" }));
    const revokedAt = Date.now();
    await revokeApiKey(store, systemClock, id);
    for (const side of ["A", "B"] as const) {
      for (;;) {
        const outcome = await call(url(side), doomed, "sessionTokens.create", { externalUserId: "u" });
        if (outcome.kind === "response" && outcome.status === 401) break;
        expect(Date.now() - revokedAt, `host ${side} still accepts the revoked key`).toBeLessThan(2_000);
        await sleep(5);
      }
    }
    // No token of the revoked key is live, on either host's word or in the table.
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from session_tokens where api_key_id = ${id} and revoked_at is null`.execute(
      store.kysely,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it("the shared limiter: 2 × the limit of imported rows split over both hosts at once, exactly the limit accepted", async () => {
    const { secretKey: importer } = await createApiKey(store, systemClock, {
      organizationName: "Importer",
      environment: "test",
    });
    const rowsPerCall = 60;
    const calls = (2 * IMPORT_LIMIT) / rowsPerCall;
    const outcomes = await Promise.all(
      Array.from({ length: calls }, (_, call_) =>
        call(url(call_ % 2 === 0 ? "A" : "B"), importer, "customers.import", {
          customers: Array.from({ length: rowsPerCall }, (_, i) => ({
            stripeCustomerId: `cus_L${call_}x${i}`,
            email: `l${call_}_${i}@example.com`,
          })),
        }),
      ),
    );
    const statuses = outcomes.map((outcome) => (outcome.kind === "response" ? outcome.status : outcome.error));
    expect(
      statuses.filter((status) => status === 200),
      JSON.stringify(statuses),
    ).toHaveLength(calls / 2);
    expect(statuses.filter((status) => status === 429)).toHaveLength(calls / 2);
    for (const outcome of outcomes) {
      if (outcome.kind === "response" && outcome.status === 429) {
        expect(outcome.body.error?.data?.code).toBe("TOO_MANY_REQUESTS");
        expect(
          (outcome.body.error?.data as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds,
        ).toBeGreaterThan(0);
      }
    }
  });

  it("PostgreSQL gone under load, then back: typed 503s meanwhile, /health says so, both hosts recover alone, no acknowledged write lost", async () => {
    const acknowledged: string[] = [];
    const untyped: string[] = [];
    let unavailable = 0;
    let phase: "before" | "cut" | "restored" = "before";
    let stop = false;
    const load = runWorkers(IN_FLIGHT, async (worker) => {
      if (stop) return false;
      const side = worker % 2 === 0 ? "A" : "B";
      const started = Date.now();
      const outcome = await call(url(side), secretKey, "sessionTokens.create", { externalUserId: `outage_${worker}` });
      if (outcome.kind === "response" && outcome.status === 200)
        acknowledged.push(dataOf<{ tokenId: string }>(outcome).tokenId);
      else if (
        outcome.kind === "response" &&
        outcome.status === 503 &&
        outcome.body.error?.data?.code === "SERVICE_UNAVAILABLE"
      )
        unavailable++;
      else untyped.push(`${phase} via ${side} after ${Date.now() - started} ms: ${describeOutcome(outcome)}`);
      return true;
    });
    await sleep(500);
    await proxy.cut();
    phase = "cut";
    await sleep(1_500);
    for (const side of ["A", "B"] as const) {
      const health = await fetch(`${url(side)}/health`);
      expect(health.status, `host ${side} /health while the database is gone`).toBe(503);
    }
    await proxy.restore();
    phase = "restored";
    // Both hosts serve again by themselves (new connections; no restart).
    for (const side of ["A", "B"] as const) {
      await expect.poll(async () => (await fetch(`${url(side)}/health`)).status, { timeout: 10_000 }).toBe(200);
    }
    const afterRecovery = acknowledged.length;
    await sleep(500);
    stop = true;
    await load;
    expect(untyped, "answers other than 200 or a typed 503").toEqual([]);
    expect(unavailable).toBeGreaterThan(0);
    expect(acknowledged.length, "creations acknowledged after the database came back").toBeGreaterThan(afterRecovery);
    const stored = await mapLimit(
      acknowledged,
      8,
      async (id) =>
        (await sql<{ n: number }>`select count(*)::int as n from session_tokens where id = ${id}`.execute(store.kysely))
          .rows[0]!.n,
    );
    expect(
      stored.filter((n) => n !== 1),
      "acknowledged creations missing",
    ).toEqual([]);
  }, 60_000);

  it("a host killed under load: the other serves on without an error, and every acknowledged creation is stored", async () => {
    const acknowledged: string[] = [];
    const failuresOnB: string[] = [];
    let stop = false;
    const load = runWorkers(IN_FLIGHT, async (worker) => {
      if (stop) return false;
      const side = worker % 2 === 0 ? "A" : "B";
      const outcome = await call(url(side), secretKey, "sessionTokens.create", { externalUserId: `kill_${worker}` });
      if (outcome.kind === "response" && outcome.status === 200)
        acknowledged.push(dataOf<{ tokenId: string }>(outcome).tokenId);
      else if (side === "B") failuresOnB.push(describeOutcome(outcome));
      return side === "B" || (hosts.A.process.child.exitCode === null && hosts.A.process.child.signalCode === null);
    });
    await sleep(700);
    await hosts.A.crash();
    await sleep(700);
    stop = true;
    await load;
    expect(failuresOnB).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(20);
    const stored = await mapLimit(
      acknowledged,
      8,
      async (id) =>
        (await sql<{ n: number }>`select count(*)::int as n from session_tokens where id = ${id}`.execute(store.kysely))
          .rows[0]!.n,
    );
    expect(
      stored.filter((n) => n !== 1),
      "acknowledged creations missing",
    ).toEqual([]);
  });

  it("SIGTERM on both hosts leaves nothing of them in flight in pg_stat_activity", async () => {
    // A was killed above: a new host takes its place, then both are stopped together.
    hosts.A = await startHost("127.0.0.2");
    dataOf(await call(url("A"), secretKey, "sessionTokens.create", { externalUserId: "restarted" }));
    const exits = await Promise.all([hosts.A.stop(), hosts.B.stop()]);
    expect(exits.map((exit) => exit.code)).toEqual([0, 0]);
    // What remains is this test's own store: its pool (idle) and its key-cache listener. (Host A,
    // killed above, may take a moment more to be noticed gone by the server.)
    const others = async () =>
      (
        await sql<{ application_name: string; state: string; query: string }>`
        select application_name, state, query from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and state <> 'idle'
          and application_name <> 'billingos-key-cache'`.execute(store.kysely)
      ).rows;
    await expect.poll(others, { timeout: 5_000 }).toEqual([]);
    const { rows } = await sql`select pid from pg_stat_activity where datname = current_database()`.execute(
      store.kysely,
    );
    expect(rows.length).toBeLessThanOrEqual(3);
  });
});
