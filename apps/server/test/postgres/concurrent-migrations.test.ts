import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterEach, expect, it } from "vitest";
import { createMigrationTable, MIGRATION_TABLE } from "../../src/store/migrate.js";
import { migrations } from "../../src/store/migrations/index.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import type { Store } from "../../src/store/store.js";
import {
  createEmptyPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
} from "../support/postgres-databases.js";

const describePostgres = await describeOnPostgres();
const SERVER_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./migrate-process.ts", import.meta.url));
const migrationNames = Object.keys(migrations).sort();

interface MigrateProcess {
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(): void;
}

function startMigrating(url: string, startAt?: number): MigrateProcess {
  const args = [
    "--conditions=source",
    "--import",
    "tsx",
    SCRIPT,
    url,
    ...(startAt === undefined ? [] : [String(startAt)]),
  ];
  const child = spawn(process.execPath, args, { cwd: SERVER_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return {
    pid: child.pid!,
    exited: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }))),
    kill: () => child.kill("SIGKILL"),
  };
}

async function appliedNames(store: Store): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(
    store.kysely,
  );
  return rows.map((row) => row.name);
}

describePostgres("migrating PostgreSQL from several processes", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function emptyDatabase(): Promise<{ database: PostgresTestDatabase; store: Store }> {
    const database = await createEmptyPostgresDatabase();
    const store = await openPostgresStore({ url: database.url, poolSize: 3, migrate: false });
    cleanups.push(
      () => database.drop(),
      () => store.close(),
    );
    return { database, store };
  }

  it("migrates an empty database once when three processes start at the same moment", async () => {
    const { database, store } = await emptyDatabase();
    const startAt = Date.now() + 2_500; // past every child's start-up, on the same clock
    const children = [1, 2, 3].map(() => startMigrating(database.url, startAt));
    const results = await Promise.all(children.map((child) => child.exited));
    for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
    const appliedCounts = results.map((result) => Number(/applied (\d+)/.exec(result.stdout)?.[1]));
    expect(appliedCounts.reduce((sum, count) => sum + count, 0)).toBe(migrationNames.length);
    expect(await appliedNames(store)).toEqual(migrationNames); // each name once (it is the primary key, and equal)
  });

  it("leaves nothing of a migration whose process is killed midway, and the next start finishes", async () => {
    const { database, store } = await emptyDatabase();
    await createMigrationTable(store.kysely);
    const first = migrationNames[0]!;

    // Hold the migration's closing INSERT of its record: the process has run the migration's DDL
    // (its tables exist in its transaction) and waits, mid-migration, when it is killed.
    await store.transaction(async (trx) => {
      await sql`lock table ${sql.table(MIGRATION_TABLE)} in exclusive mode`.execute(trx.kysely);
      const child = startMigrating(database.url);
      cleanups.push(async () => void child.kill());
      await expect
        .poll(
          async () => {
            const { rows } = await sql<{ waiting: number }>`
              select count(*) as waiting from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock' and query like ${`insert into "${MIGRATION_TABLE}"%`}
            `.execute(store.kysely);
            return rows[0]!.waiting;
          },
          { timeout: 15_000, interval: 50 },
        )
        .toBe(1);
      // The first migration's tables are there inside the waiting transaction, only not visible to others.
      const { rows: locks } = await sql<{ n: number }>`
        select count(*) as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where a.datname = current_database() and a.wait_event_type = 'Lock' and l.locktype = 'relation' and l.mode = 'AccessExclusiveLock'
      `.execute(store.kysely);
      expect(locks[0]!.n).toBeGreaterThan(0);
      child.kill();
      expect(await child.exited).toMatchObject({ signal: "SIGKILL" });
    });
    // Its backend ends once it finds the client gone; until then its transaction is still open.
    await expect
      .poll(
        async () => {
          const { rows } = await sql<{ n: number }>`
            select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
              and query like ${`insert into "${MIGRATION_TABLE}"%`}
          `.execute(store.kysely);
          return rows[0]!.n;
        },
        { timeout: 15_000, interval: 50 },
      )
      .toBe(0);

    expect(await appliedNames(store)).toEqual([]);
    const { rows } = await sql<{ exists: boolean }>`select to_regclass('organizations') is not null as exists`.execute(
      store.kysely,
    );
    expect(rows[0]!.exists).toBe(false);
    expect(first).toBe("2026-11-26-0001-initial");

    const next = startMigrating(database.url);
    const result = await next.exited;
    expect(result, result.stderr).toMatchObject({ code: 0 });
    expect(result.stdout).toContain(`applied ${migrationNames.length}`);
    expect(await appliedNames(store)).toEqual(migrationNames);
  });
});
