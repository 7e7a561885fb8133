import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import type { SchemaKysely } from "../queryable.js";
import type { DatabaseSchema } from "../schema.js";
import type { Store } from "../store.js";
import { StoreOpenError } from "../store-open-error.js";
import { type ConnectionTarget, connectionTarget } from "./connection-target.js";
import { NamedStatements } from "./named-statements.js";
import { NotifiedCache } from "./notified-cache.js";
import {
  CHORE_APPLICATION_NAME,
  CONNECT_TIMEOUT_MS,
  createDedicatedClient,
  createPool,
  LISTENER_APPLICATION_NAME,
} from "./postgres-pool.js";
import { PostgresStore } from "./postgres-store.js";

export interface OpenPostgresStoreOptions {
  /** postgres:// or postgresql:// URL; absent, pg reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE. */
  url?: string | undefined;
  /** Connections at most in this process's pool. */
  poolSize: number;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean | undefined;
  /** Told of errors on idle pooled connections (the server went away); they never crash the process. */
  onIdleClientError?: ((error: Error) => void) | undefined;
  /**
   * "listen" (default): keep found keys in memory while listening for changes (notified-cache.ts);
   * "off": read them every time (the admin CLI, or a connection path where LISTEN is not delivered,
   * such as PgBouncer in transaction mode).
   */
  keyCache?: "listen" | "off" | undefined;
}

function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(reasonOf).join("; ");
  if (error instanceof Error) return error.message || error.name || String((error as { code?: unknown }).code);
  return String(error);
}

/** Fails the open with one line: what was tried, what went wrong (password masked). */
async function checkReachable(pool: pg.Pool, target: ConnectionTarget): Promise<void> {
  try {
    // pg bounds the connect by connectionTimeoutMillis; the query itself is `select 1`.
    const client = await pool.connect();
    try {
      await client.query("select 1");
    } finally {
      client.release();
    }
  } catch (error) {
    const reason = target.redact(reasonOf(error));
    const said = /timeout/i.test(reason) ? `no answer within ${CONNECT_TIMEOUT_MS / 1000} s (${reason})` : reason;
    throw new StoreOpenError(`Cannot open PostgreSQL at ${target.description}: ${said}`, { cause: error });
  }
}

/**
 * Opens the PostgreSQL store: a pool of `poolSize` connections, checked reachable, migrated
 * unless told otherwise. Throws StoreOpenError (one line, no password) on a malformed URL or a
 * server that cannot be reached or refuses the credentials.
 */
export async function openPostgresStore({
  url,
  poolSize,
  migrate = true,
  onIdleClientError,
  keyCache = "listen",
}: OpenPostgresStoreOptions): Promise<Store> {
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new StoreOpenError(
      `The PostgreSQL pool size must be a whole number of connections, at least 1 (got ${poolSize})`,
    );
  }
  const target = connectionTarget(url);
  const statements = new NamedStatements();
  const pool = createPool({ target, poolSize, onIdleClientError, clientClass: statements.clientClass() });
  const kysely: SchemaKysely = new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) });
  try {
    await checkReachable(pool, target);
    const cache =
      keyCache === "listen"
        ? new NotifiedCache(() => createDedicatedClient(target, LISTENER_APPLICATION_NAME), onIdleClientError)
        : undefined;
    const store = new PostgresStore(kysely, { pool, statements, cache }, () =>
      createDedicatedClient(target, CHORE_APPLICATION_NAME),
    );
    if (migrate) await store.migrate();
    await cache?.start();
    return store;
  } catch (error) {
    await kysely.destroy().catch(() => {});
    throw error;
  }
}
