import pg from "pg";
import type { TestProjectInlineConfiguration } from "vitest/config";

const HOW_TO_RUN =
  "PostgreSQL suites skipped: no PostgreSQL server reachable. Run them with `pg_virtualenv -- pnpm test`, or set DATABASE_URL=postgres://… (or PGHOST/PGPORT/PGUSER/PGPASSWORD).";

/** Whether a PostgreSQL server answers where DATABASE_URL (postgres://…) or the PG* variables say. */
async function postgresReachable(): Promise<boolean> {
  const url = process.env.DATABASE_URL;
  const client = new pg.Client({
    ...(url !== undefined && /^postgres(ql)?:\/\//.test(url) ? { connectionString: url } : {}),
    connectionTimeoutMillis: 2_000,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

let said = false;

/**
 * The "postgres" test project: every suite but the `exclude`d ones, again, on PostgreSQL
 * (BILLINGOS_TEST_ENGINE=postgres; each test's store is a database of its own). Without a reachable
 * server it is left out with one line saying how to run it, except under CI, where it stays in and
 * fails: a pipeline must not pass by skipping the engine it is meant to test.
 */
export async function postgresProject(options: { exclude?: string[] } = {}): Promise<TestProjectInlineConfiguration[]> {
  if (!process.env.CI && !(await postgresReachable())) {
    if (!said) console.warn(HOW_TO_RUN);
    said = true;
    return [];
  }
  return [
    {
      extends: true,
      test: {
        name: "postgres",
        exclude: options.exclude ?? [],
        env: { BILLINGOS_TEST_ENGINE: "postgres" },
      },
    },
  ];
}
