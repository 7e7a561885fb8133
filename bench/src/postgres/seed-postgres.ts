import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import BetterSqlite3 from "better-sqlite3";
import { csvLine } from "./csv.js";
import { copyCsv, runSql } from "./psql.js";
import type { PostgresTarget } from "./target.js";

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Fails fast, with psql's reason, when the named server does not answer. */
export async function checkReachable(target: PostgresTarget): Promise<void> {
  await runSql(target.maintenanceUrl, "select 1");
}

/** A database of the bench's own on the target server, dropped by `drop`. */
export async function createBenchDatabase(target: PostgresTarget): Promise<BenchDatabase> {
  const name = `billingos_bench_${process.pid}_${Date.now().toString(36)}`;
  await runSql(target.maintenanceUrl, `create database "${name}"`);
  return {
    name,
    url: target.urlFor(name),
    drop: async () => {
      await runSql(target.maintenanceUrl, `drop database if exists "${name}" with (force)`);
    },
  };
}

/**
 * The postmaster's pid, so that the database's CPU time (it and its children: backends, WAL writer,
 * checkpointer, autovacuum) can be read from /proc; undefined when the server cannot say (not a
 * superuser) or runs elsewhere (its pid file is not readable here).
 */
export async function postmasterPid(url: string): Promise<number | undefined> {
  try {
    const dataDirectory = await runSql(url, "show data_directory");
    const pid = Number(readFileSync(`${dataDirectory}/postmaster.pid`, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Tables whose rows reference others' come after them. */
const FIRST = ["organizations", "api_keys"];

function* csvChunks(rows: Iterable<unknown[]>): Generator<string> {
  let chunk = "";
  let count = 0;
  for (const row of rows) {
    chunk += csvLine(row);
    if (++count % 2_000 === 0) {
      yield chunk;
      chunk = "";
    }
  }
  if (chunk) yield chunk;
}

export interface CopyResult {
  /** Rows copied, by table. */
  rows: Record<string, number>;
  seconds: number;
}

/**
 * Copies the seeded SQLite database's rows into the migrated PostgreSQL database `url`, with COPY:
 * the same organization, key and tokens, so that the same requests are valid on both engines.
 * `sessionTokens` caps the tokens copied (the first ones seeded, which are the ones the bench
 * verifies and revokes). Whatever the server wrote on its first start (a development key) is removed
 * first; the tables are analyzed and a checkpoint taken after, so that neither runs in a measurement.
 */
export async function copySqliteIntoPostgres(
  sqlitePath: string,
  url: string,
  sessionTokens: number,
): Promise<CopyResult> {
  const started = performance.now();
  const sqlite = new BetterSqlite3(sqlitePath, { readonly: true });
  try {
    const postgresTables = new Set(
      (await runSql(url, "select tablename from pg_tables where schemaname = current_schema()")).split("\n"),
    );
    const sqliteTables = (
      sqlite.prepare("select name from sqlite_master where type = 'table'").pluck().all() as string[]
    ).filter((name) => !name.startsWith("kysely_") && !name.startsWith("sqlite_") && postgresTables.has(name));
    const tables = [
      ...FIRST.filter((name) => sqliteTables.includes(name)),
      ...sqliteTables.filter((name) => !FIRST.includes(name)),
    ];
    await runSql(url, `truncate ${tables.map((name) => `"${name}"`).join(", ")} cascade`);
    const rows: Record<string, number> = {};
    for (const table of tables) {
      const limit = table === "session_tokens" ? ` order by rowid limit ${Math.trunc(sessionTokens)}` : "";
      const select = sqlite.prepare(`select * from "${table}"${limit}`).raw(true);
      const columns = select.columns().map((column) => column.name);
      let count = 0;
      const counted = (function* () {
        for (const row of select.iterate() as Iterable<unknown[]>) {
          count++;
          yield row;
        }
      })();
      await copyCsv(url, table, columns, Readable.from(csvChunks(counted)));
      rows[table] = count;
    }
    await runSql(url, "vacuum analyze");
    await runSql(url, "checkpoint");
    return { rows, seconds: (performance.now() - started) / 1000 };
  } finally {
    sqlite.close();
  }
}
