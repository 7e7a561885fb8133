import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { RetryLaterError } from "../../src/shared/domain-error.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import { MAX_ATTEMPTS } from "../../src/store/postgres/postgres-transaction.js";
import type { Queryable } from "../../src/store/queryable.js";
import { rollbackWith } from "../../src/store/rollback.js";
import type { Store } from "../../src/store/store.js";
import {
  createPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
} from "../support/postgres-databases.js";

const describePostgres = await describeOnPostgres();

/** Resolves once `count` callers have arrived: two transactions meet here on their first run only. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    if (++arrived === count) release();
    return all;
  };
}

const T0 = 1_764_000_000_123; // a millisecond time beyond 2^31

async function addOrganization(db: Queryable, id: string, createdAt = T0): Promise<void> {
  await db.kysely
    .insertInto("organizations")
    .values({ id, name: `Org ${id}`, created_at: createdAt })
    .execute();
}

describePostgres("the PostgreSQL store", () => {
  let database: PostgresTestDatabase;
  let store: Store;
  const idleErrors: Error[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    store = await openPostgresStore({
      url: database.url,
      poolSize: 4,
      migrate: false,
      onIdleClientError: (error) => idleErrors.push(error),
    });
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  beforeEach(async () => {
    await sql`truncate organizations cascade`.execute(store.kysely);
  });

  it("says it is PostgreSQL", () => {
    expect(store.engine).toBe("postgres");
  });

  it("reads int8 columns and count(*) as numbers, through Kysely and run()", async () => {
    await addOrganization(store, "org_1");
    await addOrganization(store, "org_2", T0 + 1);
    const row = await store.kysely
      .selectFrom("organizations")
      .select("created_at")
      .where("id", "=", "org_1")
      .executeTakeFirstOrThrow();
    expect(row.created_at).toBe(T0);
    const counted = await store.kysely
      .selectFrom("organizations")
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    expect(counted.n).toBe(2);
    const raw = await store.run<{ created_at: unknown; n: unknown }>(
      "select max(created_at) as created_at, count(*) as n from organizations where id <> $1",
      ["none"],
      true,
    );
    expect(raw.rows).toEqual([{ created_at: T0 + 1, n: 2 }]);
  });

  it("refuses an int8 beyond 2^53 rather than rounding it", async () => {
    await expect(store.run("select 9007199254740993::int8 as big", [], true)).rejects.toThrow(/does not fit/);
    // The connection that met it stays usable.
    expect((await store.run<{ one: number }>("select 1::int8 as one", [], true)).rows).toEqual([{ one: 1 }]);
  });

  it("commits a transaction, and undoes one that throws", async () => {
    await store.transaction((trx) => addOrganization(trx, "org_kept"));
    await expect(
      store.transaction(async (trx) => {
        await addOrganization(trx, "org_undone");
        throw new Error("no");
      }),
    ).rejects.toThrow("no");
    const ids = await store.kysely.selectFrom("organizations").select("id").execute();
    expect(ids.map((row) => row.id)).toEqual(["org_kept"]);
  });

  it("rollbackWith undoes the transaction and returns its result; run() inside uses the transaction's connection", async () => {
    const result = await store.transaction(async (trx) => {
      await trx.run(
        "insert into organizations (id, name, created_at) values ($1, $2, $3)",
        ["org_dry", "Dry", T0],
        false,
      );
      const seen = await trx.run<{ n: number }>("select count(*) as n from organizations", [], true);
      return rollbackWith({ seenInside: seen.rows[0]!.n });
    });
    expect(result).toEqual({ seenInside: 1 });
    expect((await store.run<{ n: number }>("select count(*) as n from organizations", [], true)).rows[0]!.n).toBe(0);
  });

  it("refuses lock() outside a transaction", async () => {
    await expect(store.lock("anything")).rejects.toThrow(/outside a transaction/);
  });

  it("lock(key) holds a second transaction on the same key until the first ends", async () => {
    const events: string[] = [];
    let firstHasLock!: () => void;
    const locked = new Promise<void>((resolve) => (firstHasLock = resolve));
    const first = store.transaction(async (trx) => {
      await trx.lock("organization:org_1");
      firstHasLock();
      await new Promise((resolve) => setTimeout(resolve, 150));
      events.push("first done");
    });
    await locked;
    const second = store.transaction(async (trx) => {
      await trx.lock("organization:org_1");
      events.push("second locked");
    });
    const other = store.transaction(async (trx) => {
      await trx.lock("organization:org_2");
      events.push("other key locked");
    });
    await Promise.all([first, second, other]);
    expect(events).toEqual(["other key locked", "first done", "second locked"]);
  });

  it("runs again a transaction that lost a deadlock, and both succeed", async () => {
    await addOrganization(store, "org_a");
    await addOrganization(store, "org_b");
    const meet = barrier(2);
    let runs = 0;
    const update = (firstId: string, secondId: string) =>
      store.transaction(async (trx) => {
        const run = ++runs;
        await trx.kysely
          .updateTable("organizations")
          .set({ created_at: T0 + run })
          .where("id", "=", firstId)
          .execute();
        if (run <= 2) await meet();
        await trx.kysely
          .updateTable("organizations")
          .set({ created_at: T0 + run })
          .where("id", "=", secondId)
          .execute();
        return run;
      });
    const results = await Promise.all([update("org_a", "org_b"), update("org_b", "org_a")]);
    expect(runs).toBe(3); // the deadlock's victim ran twice
    expect(results).toContain(3);
    const times = await store.kysely.selectFrom("organizations").select("created_at").execute();
    expect(times.map((row) => row.created_at)).toEqual([T0 + 3, T0 + 3]); // the retried unit wrote last, whole
  });

  it("runs again a transaction that met a serialization failure, and both succeed", async () => {
    const meet = barrier(2);
    let runs = 0;
    // Write skew: each reads the count, then inserts; SERIALIZABLE aborts one of them (40001).
    const addIfFew = (id: string) =>
      store.transaction(async (trx) => {
        const run = ++runs;
        await sql`set transaction isolation level serializable`.execute(trx.kysely);
        const { n } = await trx.kysely
          .selectFrom("organizations")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow();
        if (run <= 2) await meet();
        await addOrganization(trx, `${id}_${n}`);
      });
    await Promise.all([addIfFew("org_x"), addIfFew("org_y")]);
    expect(runs).toBe(3);
    const ids = (await store.kysely.selectFrom("organizations").select("id").execute()).map((row) => row.id).sort();
    // The retried one saw the other's row: counts 0 and 1, never 0 and 0.
    expect(ids.map((id) => id.slice(-1)).sort()).toEqual(["0", "1"]);
  });

  it("gives a 503 once conflicts outlast the retries", async () => {
    let runs = 0;
    const error = await store
      .transaction(async (trx) => {
        runs++;
        await sql`do $$ begin raise exception 'conflict' using errcode = 'serialization_failure'; end $$`.execute(
          trx.kysely,
        );
      })
      .catch((caught: unknown) => caught);
    expect(runs).toBe(MAX_ATTEMPTS);
    expect(error).toBeInstanceOf(RetryLaterError);
    expect(error).toMatchObject({ code: "SERVICE_UNAVAILABLE", retryAfterSeconds: 1 });
  });

  it("does not retry other errors", async () => {
    let runs = 0;
    await expect(
      store.transaction(async (trx) => {
        runs++;
        await addOrganization(trx, "org_dup");
        await addOrganization(trx, "org_dup");
      }),
    ).rejects.toMatchObject({ code: "23505" });
    expect(runs).toBe(1);
    expect(store.retryLaterFor(new Error("anything else"))).toBeUndefined();
  });

  it("cachedRead keeps a found row until a change is announced; a miss is never kept", async () => {
    const read = () =>
      store.cachedRead("org_c", (db) =>
        db.kysely.selectFrom("organizations").selectAll().where("id", "=", "org_c").executeTakeFirst(),
      );
    expect(await read()).toBeUndefined();
    await addOrganization(store, "org_c");
    expect((await read())?.created_at).toBe(T0);
    await sql`update organizations set created_at = ${T0 + 9} where id = 'org_c'`.execute(store.kysely);
    expect((await read())?.created_at, "kept: the change was not announced").toBe(T0);
    await store.invalidateCachedReads();
    expect((await read())?.created_at).toBe(T0 + 9);
  });

  it("cachedRead reads through every time with the key cache off", async () => {
    const uncached = await openPostgresStore({ url: database.url, poolSize: 1, migrate: false, keyCache: "off" });
    try {
      const read = () =>
        uncached.cachedRead("org_d", (db) =>
          db.kysely.selectFrom("organizations").selectAll().where("id", "=", "org_d").executeTakeFirst(),
        );
      await addOrganization(uncached, "org_d");
      expect((await read())?.created_at).toBe(T0);
      await sql`update organizations set created_at = ${T0 + 9} where id = 'org_d'`.execute(uncached.kysely);
      expect((await read())?.created_at).toBe(T0 + 9);
    } finally {
      await uncached.close();
    }
  });

  it("survives its idle connections being killed by the server, and carries on", async () => {
    // Fill the pool with idle connections, then have the server end them (as a restart would).
    await Promise.all([1, 2, 3].map(() => store.transaction((trx) => trx.run("select pg_sleep(0.05)", [], true))));
    const admin = await openPostgresStore({ url: database.url, poolSize: 1, migrate: false, keyCache: "off" });
    let killed = 0;
    try {
      const { rows } = await sql<{ killed: number }>`
        select count(*) as killed from (
          select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
        ) terminated
      `.execute(admin.kysely);
      killed = rows[0]!.killed;
      expect(killed).toBeGreaterThanOrEqual(3);
    } finally {
      await admin.close();
    }
    // Each idle connection hears of its end (57P01, then the socket closing) and leaves the pool.
    await expect.poll(() => idleErrors.length).toBeGreaterThanOrEqual(killed);
    expect(store.retryLaterFor(idleErrors[0])).toBeInstanceOf(RetryLaterError); // 57P01
    await store.ping();
    expect((await store.run<{ n: number }>("select 41 + 1 as n", [], true)).rows).toEqual([{ n: 42 }]);
  });
});
