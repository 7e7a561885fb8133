import { join } from "node:path";
import type { PostgresTwin } from "../scenarios/http.js";
import { SERVER_MAIN, startService } from "../scenarios/http.js";
import type { SeededDatabase } from "../seed.js";
import { runSql } from "./psql.js";
import {
  type BenchDatabase,
  checkReachable,
  copySqliteIntoPostgres,
  createBenchDatabase,
  postmasterPid,
} from "./seed-postgres.js";
import { POSTGRES_HINT, postgresTargetFromEnv } from "./target.js";

export interface PreparedPostgres {
  twin: PostgresTwin;
  seedSeconds: number;
  database: BenchDatabase;
}

/** The SQLite seed's lists cut to the tokens copied: the first `tokens` seeded (the revoked one, then the known ones, then the revocable ones). */
export function seededSubset(seeded: SeededDatabase, tokens: number): SeededDatabase {
  const validTokens = seeded.validTokens.slice(0, Math.max(0, tokens - 1));
  return {
    ...seeded,
    validTokens,
    revocableTokenIds: seeded.revocableTokenIds.slice(0, Math.max(0, tokens - 1 - validTokens.length)),
  };
}

async function engineOf(url: string): Promise<string> {
  const response = await fetch(`${url}/health`);
  const body = (await response.json()) as { engine?: unknown };
  return typeof body.engine === "string" ? body.engine : "unknown";
}

/**
 * PostgreSQL for the HTTP scenarios, or undefined with one line saying why not: a database of the
 * bench's own on the server the environment names, migrated by the server itself (its first start),
 * then filled from the seeded SQLite database with COPY. Skipped, said in one line, when no
 * PostgreSQL is named or reachable, or when this checkout's server does not run on PostgreSQL.
 */
export async function preparePostgres(
  seeded: SeededDatabase,
  options: {
    tokens: number;
    poolSize?: number | undefined;
    settings?: Record<string, string>;
    workdir: string;
    log: (message: string) => void;
  },
): Promise<PreparedPostgres | undefined> {
  const target = postgresTargetFromEnv(process.env);
  if (!target) {
    options.log(POSTGRES_HINT);
    return undefined;
  }
  try {
    await checkReachable(target);
  } catch (error) {
    options.log(
      `PostgreSQL scenarios skipped: ${target.description} does not answer (${error instanceof Error ? error.message : String(error)}); \`pg_virtualenv -- pnpm bench\` starts one`,
    );
    return undefined;
  }
  const database = await createBenchDatabase(target);
  const unusedSqlitePath = join(options.workdir, "unused-by-postgres.sqlite");
  try {
    // Names and values were checked by the argument parser (plain words only).
    for (const [name, value] of Object.entries(options.settings ?? {})) {
      await runSql(target.maintenanceUrl, `alter database "${database.name}" set ${name} = '${value}'`);
      options.log(`PostgreSQL: ${database.name} runs with ${name} = ${value}`);
    }
    // The server's first start migrates the empty database (and may create a development key, removed by the copy).
    const first = await startService(SERVER_MAIN, { DATABASE_URL: database.url, DATABASE_PATH: unusedSqlitePath });
    const engine = await engineOf(first.url).finally(() => first.stop());
    if (!engine.startsWith("postgres")) {
      options.log(
        `PostgreSQL scenarios skipped: this checkout's server ignores DATABASE_URL (its /health says engine "${engine}")`,
      );
      await database.drop();
      return undefined;
    }
    options.log(
      `PostgreSQL: copying ${options.tokens.toLocaleString("en-US")} tokens into ${target.description}/${database.name}`,
    );
    const copied = await copySqliteIntoPostgres(seeded.path, database.url, options.tokens);
    const tokens = copied.rows.session_tokens ?? 0;
    options.log(
      `PostgreSQL: ${tokens.toLocaleString("en-US")} tokens copied, analyzed and checkpointed in ${copied.seconds.toFixed(1)} s`,
    );
    const databasePid = await postmasterPid(database.url);
    if (databasePid === undefined)
      options.log("PostgreSQL: its postmaster is not visible here; the database's CPU time is not measured");
    return {
      database,
      seedSeconds: copied.seconds,
      twin: {
        url: database.url,
        ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
        tokens,
        seeded: seededSubset(seeded, tokens),
        ...(databasePid === undefined ? {} : { databasePid }),
        unusedSqlitePath,
      },
    };
  } catch (error) {
    await database.drop().catch(() => {});
    throw error;
  }
}
