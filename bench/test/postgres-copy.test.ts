import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csvLine } from "../src/postgres/csv.js";
import { seededSubset } from "../src/postgres/prepare-postgres.js";
import { runSql } from "../src/postgres/psql.js";
import {
  type BenchDatabase,
  copySqliteIntoPostgres,
  createBenchDatabase,
  postmasterPid,
} from "../src/postgres/seed-postgres.js";
import { postgresTargetFromEnv } from "../src/postgres/target.js";
import { processTreeCpu } from "../src/process-cpu.js";
import { type SeededDatabase, seedDatabase } from "../src/seed.js";

describe("csvLine", () => {
  it("writes NULL as an empty field and every string quoted, so an empty string stays one", () => {
    expect(csvLine([null, "", 'say "hi", then\nleave', 1_764_000_000_000, undefined])).toBe(
      `,"","say ""hi"", then\nleave",1764000000000,\n`,
    );
  });

  it("refuses what the schema never holds", () => {
    expect(() => csvLine([Buffer.from("x")])).toThrow(/object/);
  });
});

describe("seededSubset", () => {
  it("keeps the tokens among the first seeded: the revoked one, the known ones, then the revocable ones", () => {
    const seeded = {
      validTokens: ["v1", "v2", "v3"],
      revocableTokenIds: ["r1", "r2"],
      revokedToken: "x",
    } as SeededDatabase;
    expect(seededSubset(seeded, 5)).toMatchObject({ validTokens: ["v1", "v2", "v3"], revocableTokenIds: ["r1"] });
    expect(seededSubset(seeded, 3)).toMatchObject({ validTokens: ["v1", "v2"], revocableTokenIds: [] });
  });
});

// A real PostgreSQL, when the environment names one (`pg_virtualenv -- pnpm --filter @billingos/bench test`).
const target = postgresTargetFromEnv(process.env);

describe.skipIf(!target)("copySqliteIntoPostgres (needs PostgreSQL)", () => {
  let dir: string;
  let database: BenchDatabase;
  let seeded: SeededDatabase;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "bench-copy-"));
    seeded = await seedDatabase(join(dir, "seed.sqlite"), { tokens: 50, knownTokens: 10, revocableTokens: 20 });
    const sqlite = new BetterSqlite3(seeded.path);
    // Values CSV gets wrong first: an empty string against NULL, quotes, commas and a newline.
    sqlite
      .prepare("update session_tokens set email = '', metadata = ? where rowid = 2")
      .run('{"note":"a, \\"quoted\\"\\nline"}');
    // The schema as the migrations made it in SQLite; on PostgreSQL the server's migrations make it,
    // which this test must not depend on. The types are portable (text, bigint).
    const ddl = sqlite
      .prepare("select sql from sqlite_master where sql is not null and name not like 'sqlite_%' order by type desc")
      .pluck()
      .all() as string[];
    sqlite.close();
    database = await createBenchDatabase(target!);
    for (const statement of ddl) await runSql(database.url, statement);
  });

  afterAll(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("copies every table, the tokens capped in the order seeded, values and NULLs unchanged", async () => {
    // A leftover the server's first start may write (a development key's organization) goes first.
    await runSql(database.url, "insert into organizations (id, name, created_at) values ('org_dev', 'Development', 1)");
    const copied = await copySqliteIntoPostgres(seeded.path, database.url, 30);
    expect(copied.rows).toMatchObject({ organizations: 1, api_keys: 1, session_tokens: 30 });
    expect(copied.rows).not.toHaveProperty("kysely_migration");

    const sqlite = new BetterSqlite3(seeded.path, { readonly: true });
    const expected = sqlite
      .prepare(
        "select id, token_hash, coalesce(email, '<null>'), coalesce(metadata, '<null>'), expires_at from session_tokens order by rowid limit 30",
      )
      .raw(true)
      .all()
      .map((row) => (row as unknown[]).join("\t"));
    sqlite.close();
    const actual = await runSql(
      database.url,
      "select concat_ws(E'\\t', id, token_hash, coalesce(email, '<null>'), coalesce(metadata, '<null>'), expires_at) from session_tokens order by id",
    );
    expect(actual.split("\n")).toEqual(expected);
    expect(expected[1]).toContain("\t\t");
    expect(await runSql(database.url, "select string_agg(name, ',') from organizations")).toBe("Bench");
  });

  it("finds the postmaster of a local server, whose children are the backends", async () => {
    const pid = await postmasterPid(database.url);
    expect(pid).toBeGreaterThan(0);
    // Its children (checkpointer, WAL writer, …) are what the bench adds up with the backends.
    expect(processTreeCpu(pid!)!.size).toBeGreaterThan(2);
  });
});
