import { createHash, randomBytes } from "node:crypto";
import pg from "pg";
import { describe } from "vitest";
import { migrations } from "../../src/store/migrations/index.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import { firstThisRun } from "./once-per-run.js";

/**
 * Each PostgreSQL test file gets a database of its own, cloned in milliseconds from a template
 * migrated once per migration set. The server is named by DATABASE_URL (a postgres:// URL whose
 * role may create databases) or else by the PG* variables, as `pg_virtualenv -- pnpm test` sets them.
 */

const HOW_TO_RUN =
  "PostgreSQL tests skipped: no server reachable; run them with `pg_virtualenv -- pnpm test`, or set DATABASE_URL (postgres://…) or PGHOST/PGPORT/PGUSER/PGPASSWORD";

/** The admin connection's settings: DATABASE_URL when it names PostgreSQL, else pg's PG* defaults. */
function adminConfig(): pg.ClientConfig {
  const url = process.env.DATABASE_URL;
  return url !== undefined && /^postgres(ql)?:\/\//.test(url) ? { connectionString: url } : {};
}

let adminPool: pg.Pool | undefined;

function admin(): pg.Pool {
  if (adminPool === undefined) {
    adminPool = new pg.Pool({
      ...adminConfig(),
      max: 2,
      connectionTimeoutMillis: 2_000,
      idleTimeoutMillis: 1_000,
      allowExitOnIdle: true,
    });
    adminPool.on("error", () => {}); // An idle admin connection lost with the server is simply dropped.
  }
  return adminPool;
}

let available: Promise<boolean> | undefined;

/** Whether a PostgreSQL server answers at the configured place (asked once per worker). */
export function postgresAvailable(): Promise<boolean> {
  available ??= admin()
    .query("select 1")
    .then(
      () => true,
      () => false,
    );
  return available;
}

/**
 * `describe` when PostgreSQL is reachable; otherwise `describe.skip` after one line saying how to
 * run the suite. Under CI (the CI variable set), an unreachable server fails the file instead: a
 * pipeline must not pass by skipping the engine it is meant to test.
 */
export async function describeOnPostgres(): Promise<typeof describe | typeof describe.skip> {
  if (await postgresAvailable()) return describe;
  if (process.env.CI)
    throw new Error(`PostgreSQL is required under CI and cannot be reached (set DATABASE_URL or PG*)`);
  if (firstThisRun("postgres-skipped")) console.warn(HOW_TO_RUN);
  return describe.skip;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Where the server listens: a TCP host and port, or a Unix socket directory and port. */
export interface PostgresServerAddress {
  host: string;
  port: number;
  /** The socket file when `host` is a directory (pg's convention for Unix sockets). */
  socketPath?: string | undefined;
}

export function postgresServerAddress(): PostgresServerAddress {
  const probe = new pg.Client(adminConfig());
  return probe.host.startsWith("/")
    ? { host: probe.host, port: probe.port, socketPath: `${probe.host}/.s.PGSQL.${probe.port}` }
    : { host: probe.host, port: probe.port };
}

/**
 * A URL to database `name` on the admin connection's server, with its credentials; `via` sends it
 * to another TCP address instead (a proxy in front of the server).
 */
export function postgresUrlFor(name: string, via?: { host: string; port: number }): string {
  const probe = new pg.Client(adminConfig());
  const credentials = `${encodeURIComponent(probe.user ?? "")}${typeof probe.password === "string" && probe.password !== "" ? `:${encodeURIComponent(probe.password)}` : ""}`;
  const socket = via === undefined && probe.host.startsWith("/");
  const hostName = via?.host ?? (socket ? "localhost" : probe.host);
  const host = hostName.includes(":") ? `[${hostName}]` : hostName;
  const query = socket ? `?host=${encodeURIComponent(probe.host)}` : "";
  return `postgres://${credentials}@${host}:${via?.port ?? probe.port}/${encodeURIComponent(name)}${query}`;
}

/** Changes with the migration set, so a template is never reused after migrations change. */
function templateName(): string {
  const names = Object.keys(migrations).sort().join("\n");
  return `billingos_template_${createHash("sha256").update(names).digest("hex").slice(0, 16)}`;
}

async function databaseExists(client: pg.PoolClient, name: string): Promise<boolean> {
  const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
  return (rowCount ?? 0) > 0;
}

/**
 * Builds the template once. Under a session advisory lock, so two vitest workers starting at once
 * build it once; under a temporary name renamed at the end, so a run killed midway never leaves a
 * half-migrated template behind. Connections to it are then refused: CREATE DATABASE … TEMPLATE
 * needs it to have none.
 */
async function buildTemplate(): Promise<string> {
  const name = templateName();
  const client = await admin().connect();
  try {
    await client.query("select pg_advisory_lock(hashtextextended('billingos:test-template', 0))");
    try {
      if (await databaseExists(client, name)) return name;
      const building = `${name}_building`;
      await client.query(`drop database if exists ${quoteIdent(building)} with (force)`);
      await client.query(`create database ${quoteIdent(building)}`);
      const store = await openPostgresStore({ url: postgresUrlFor(building), poolSize: 1 });
      await store.close();
      await client.query(`alter database ${quoteIdent(building)} rename to ${quoteIdent(name)}`);
      await client.query(`alter database ${quoteIdent(name)} with allow_connections false`);
      return name;
    } finally {
      await client.query("select pg_advisory_unlock(hashtextextended('billingos:test-template', 0))");
    }
  } finally {
    client.release();
  }
}

let template: Promise<string> | undefined;
let created = 0;

export interface PostgresTestDatabase {
  /** postgres:// URL of the new, migrated database. */
  url: string;
  name: string;
  /** Drops it, closing any connection still open to it. */
  drop(): Promise<void>;
}

async function dropDatabase(name: string): Promise<void> {
  await admin().query(`drop database if exists ${quoteIdent(name)} with (force)`);
}

/** A new database migrated to the latest schema (a copy of the template), for one test file. */
export async function createPostgresDatabase(): Promise<PostgresTestDatabase> {
  // One build per worker; a failed build is tried again by the next file rather than kept.
  template ??= buildTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  const source = await template;
  const name = `billingos_test_${process.pid}_${++created}_${randomBytes(3).toString("hex")}`;
  await admin().query(`create database ${quoteIdent(name)} template ${quoteIdent(source)}`);
  return { url: postgresUrlFor(name), name, drop: () => dropDatabase(name) };
}

/**
 * A new EMPTY database (nothing migrated), for tests of migration itself. `options` is appended to
 * CREATE DATABASE as is (e.g. a locale), from test code only.
 */
export async function createEmptyPostgresDatabase(options = ""): Promise<PostgresTestDatabase> {
  const name = `billingos_empty_${process.pid}_${++created}_${randomBytes(3).toString("hex")}`;
  await admin().query(`create database ${quoteIdent(name)} ${options}`);
  return { url: postgresUrlFor(name), name, drop: () => dropDatabase(name) };
}
