import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import {
  Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  SqliteDialect,
} from "kysely";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createMigrationTable, migrateToLatest } from "../../src/store/migrate.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { killAllServers, makeTempDir, startServer, type TempDir } from "./support.js";

/**
 * The crash durability test kills the server under load, once it serves. This covers the other
 * window: the FIRST start, while the migrations create the schema. A process killed there must
 * leave a file the next start can finish migrating (the README's first command, a container
 * restarted by its orchestrator, a Ctrl-C at the wrong moment).
 *
 * A crash is simulated exactly at every statement boundary: the migrations run through the
 * real `migrateToLatest` on a real file, and the k-th query (k = 1, 2, …) and everything after
 * it fails, as if the process had died just before it. SQLite applies each statement whole or
 * not at all, so statement boundaries are the only crash points that matter. Then the file is
 * opened the way the server opens it.
 */

/** Fails the k-th query and every one after it: a process that died just before statement k. */
class DieBeforeQuery implements KyselyPlugin {
  seen = 0;
  constructor(readonly at: number) {}

  transformQuery({ node }: PluginTransformQueryArgs) {
    this.seen++;
    if (this.seen >= this.at) throw new Error(`simulated crash before query ${this.at}`);
    return node;
  }

  async transformResult({ result }: PluginTransformResultArgs) {
    return result;
  }
}

function schemaOf(path: string): string[] {
  const sqlite = new BetterSqlite3(path, { readonly: true });
  try {
    return (
      sqlite
        .prepare("select type, name, sql from sqlite_master where name not like 'sqlite_%' order by type, name")
        .all() as {
        type: string;
        name: string;
        sql: string | null;
      }[]
    ).map((row) => `${row.type} ${row.name}: ${row.sql ?? ""}`);
  } finally {
    sqlite.close();
  }
}

function migrationsRecorded(path: string): number {
  const sqlite = new BetterSqlite3(path, { readonly: true });
  try {
    const table = sqlite.prepare("select 1 from sqlite_master where name = 'kysely_migration'").get();
    return table === undefined
      ? 0
      : (sqlite.prepare("select count(*) as n from kysely_migration").get() as { n: number }).n;
  } finally {
    sqlite.close();
  }
}

/** Runs the migrations on a fresh file, dying before query `at`; returns how many queries ran. */
async function migrateAndDie(path: string, at: number): Promise<{ queries: number; completed: boolean }> {
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  const plugin = new DieBeforeQuery(at);
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }), plugins: [plugin] });
  let completed = true;
  try {
    await createMigrationTable(db);
    await migrateToLatest(db, (work) => db.transaction().execute(work));
  } catch {
    completed = false;
  }
  await db.destroy();
  return { queries: Math.min(plugin.seen, at - 1), completed };
}

const temps: TempDir[] = [];
const tempDir = () => {
  const temp = makeTempDir("billingos-migration-crash-");
  temps.push(temp);
  return temp;
};
afterEach(() => {
  for (const temp of temps.splice(0)) temp.remove();
});
afterAll(killAllServers);

describe("a crash during the first start's migrations", () => {
  it("leaves a file that the next start migrates to the full schema, at every statement boundary", async () => {
    const reference = join(tempDir().path, "reference.sqlite");
    await (await openSqliteStore({ path: reference })).close();
    const expected = schemaOf(reference);

    const clean = await migrateAndDie(join(tempDir().path, "count.sqlite"), Number.POSITIVE_INFINITY);
    expect(clean.completed).toBe(true);
    const total = clean.queries;
    expect(total).toBeGreaterThan(10);

    const unrecoverable: string[] = [];
    for (let at = 1; at <= total; at++) {
      const path = join(tempDir().path, `crash-${at}.sqlite`);
      const { completed } = await migrateAndDie(path, at);
      expect(completed, `dying before query ${at} of ${total} interrupts the migrations`).toBe(false);
      try {
        await (await openSqliteStore({ path })).close();
        expect(schemaOf(path), `schema after a crash before query ${at} and a restart`).toEqual(expected);
      } catch (error) {
        unrecoverable.push(`crash before query ${at} of ${total}: restart fails with ${(error as Error).message}`);
      }
    }
    expect(unrecoverable).toEqual([]);
  }, 60_000);

  it("the real server starts on a file whose first start died in the middle of the initial migration, which left no half of it", async () => {
    const path = join(tempDir().path, "billingos.sqlite");
    // Die a few statements into the first migration: it runs in one transaction with its record,
    // so what is left on disk is no half of it — no table of it, and nothing recorded.
    await migrateAndDie(path, 3);
    expect(migrationsRecorded(path)).toBe(0);
    expect(schemaOf(path).filter((line) => line.startsWith("table organizations:"))).toEqual([]);

    const server = await startServer(path);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(schemaOf(path).length).toBeGreaterThan(0);
  }, 60_000);
});
