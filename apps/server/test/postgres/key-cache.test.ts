import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import {
  authenticateSecretKey,
  type CreatedApiKey,
  createApiKey,
  revokeApiKey,
} from "../../src/api-keys/api-keys.service.js";
import { ManualClock } from "../../src/shared/clock.js";
import { DomainError } from "../../src/shared/domain-error.js";
import {
  CACHE_CHANNEL,
  HEARTBEAT_MS,
  HEARTBEAT_TIMEOUT_MS,
  NotifiedCache,
} from "../../src/store/postgres/notified-cache.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import { LISTENER_APPLICATION_NAME } from "../../src/store/postgres/postgres-pool.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import {
  createPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
  postgresServerAddress,
  postgresUrlFor,
} from "../support/postgres-databases.js";
import { type PostgresProxy, startPostgresProxy } from "../support/postgres-proxy.js";

// SPEC §8 / issue 12 §2: on PostgreSQL each host keeps found keys while it LISTENs for changes; a
// key revoked on one host is refused there on the next call and on every other host once the
// notification arrives; a host whose listener is gone reads every time until it listens again.

const describePostgres = await describeOnPostgres();

describePostgres("the PostgreSQL key cache shared by several hosts", () => {
  let database: PostgresTestDatabase;
  let hostA: Store;
  let hostB: Store;
  let key: CreatedApiKey;
  const clock = new ManualClock(START_TIME);

  const authenticate = (store: Store) => authenticateSecretKey(store, `Bearer ${key.secretKey}`);
  const refused = (store: Store) =>
    authenticate(store).then(
      () => false,
      (error: unknown) => {
        if (error instanceof DomainError && error.code === "UNAUTHORIZED") return true;
        throw error;
      },
    );
  /** Changes the key's row behind every host's back: no notification, as a hand-written UPDATE would. */
  const setRevokedQuietly = (revokedAt: number | null) =>
    sql`update api_keys set revoked_at = ${revokedAt} where id = ${key.id}`.execute(hostA.kysely);
  const listeners = async () =>
    (
      await sql<{
        pid: number;
      }>`select pid from pg_stat_activity where application_name = ${LISTENER_APPLICATION_NAME} and datname = current_database()`.execute(
        hostA.kysely,
      )
    ).rows;

  async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await sleep(10);
    }
  }

  beforeAll(async () => {
    database = await createPostgresDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    hostA = await openPostgresStore({ url: database.url, poolSize: 2, migrate: false });
    hostB = await openPostgresStore({ url: database.url, poolSize: 2, migrate: false });
    key = await createApiKey(hostA, clock, { organizationName: `Acme ${Math.random()}`, environment: "test" });
  });
  afterEach(async () => {
    await hostA?.close();
    await hostB?.close();
  });

  it("keeps a found key: a change made without a notification is not seen until one arrives", async () => {
    expect(await listeners()).toHaveLength(2);
    await authenticate(hostB);
    await setRevokedQuietly(clock.now());
    // Served from memory: proof that the cache is used (the database says revoked).
    expect(await refused(hostB)).toBe(false);
    await sql`select pg_notify(${CACHE_CHANNEL}, '')`.execute(hostA.kysely);
    await until(() => refused(hostB), "host B hears the notification");
  });

  it("a key revoked on host A is refused by A on its next call and by B once the notification arrives", async () => {
    await authenticate(hostA);
    await authenticate(hostB);
    const revokedAt = Date.now();
    await revokeApiKey(hostA, clock, key.id);
    expect(await refused(hostA)).toBe(true);
    await until(() => refused(hostB), "host B refuses the revoked key");
    // Observed, not promised: the notification arrives within a few milliseconds on one machine.
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });

  it("a host whose listener was cut reads every time, misses no revocation, and caches again once it listens", async () => {
    await authenticate(hostB);
    // Both hosts' listeners are cut; the revocation below is then made quietly, as if its
    // notification had been sent while nobody listened.
    const before = new Set((await listeners()).map((row) => row.pid));
    for (const pid of before) await sql`select pg_terminate_backend(${pid})`.execute(hostA.kysely);
    await until(async () => (await listeners()).every((row) => !before.has(row.pid)), "the cut listeners are gone");
    await setRevokedQuietly(clock.now());
    await until(() => refused(hostB), "host B reads the revoked row");
    // Listening again (reconnects after 100 ms), B keeps what it finds again: with the key restored
    // and read once, a quiet revocation is not seen until notified.
    await until(async () => (await listeners()).length === 2, "both hosts listen again");
    await setRevokedQuietly(null);
    await until(async () => !(await refused(hostB)), "host B reads the restored row");
    await setRevokedQuietly(clock.now());
    expect(await refused(hostB)).toBe(false);
    await hostA.invalidateCachedReads();
    await until(() => refused(hostB), "host B hears host A's invalidation");
  });
});

describePostgres("the key cache's listener behind a network that fails", () => {
  let database: PostgresTestDatabase;
  let proxy: PostgresProxy;
  let cache: NotifiedCache;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    proxy = await startPostgresProxy(postgresServerAddress());
  });
  afterAll(async () => {
    await cache?.close();
    await proxy?.close();
    await database?.drop();
  });

  it("stops keeping rows while the database cannot be reached and keeps them again once it can", async () => {
    const errors: Error[] = [];
    cache = new NotifiedCache(
      () => new pg.Client({ connectionString: postgresUrlFor(database.name, proxy), connectionTimeoutMillis: 1_000 }),
      (error) => errors.push(error),
    );
    await cache.start();
    expect(cache.listening).toBe(true);
    let loads = 0;
    const load = async () => ({ loaded: ++loads });
    expect(await cache.read("k", load)).toEqual({ loaded: 1 });
    expect(await cache.read("k", load)).toEqual({ loaded: 1 });

    await proxy.cut();
    const deadline = Date.now() + HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS + 1_000;
    while (cache.listening && Date.now() < deadline) await sleep(20);
    expect(cache.listening).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    // Not listening: every read loads, nothing is kept.
    expect(await cache.read("k", load)).toEqual({ loaded: 2 });
    expect(await cache.read("k", load)).toEqual({ loaded: 3 });

    await proxy.restore();
    const back = Date.now() + 10_000;
    while (!cache.listening && Date.now() < back) await sleep(20);
    expect(cache.listening).toBe(true);
    expect(await cache.read("k", load)).toEqual({ loaded: 4 });
    expect(await cache.read("k", load)).toEqual({ loaded: 4 });
  }, 30_000);
});
