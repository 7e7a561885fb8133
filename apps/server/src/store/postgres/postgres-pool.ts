import pg from "pg";
import type { ConnectionTarget } from "./connection-target.js";

/** OID of int8 (bigint): every time (ms since the epoch) and count column, and what count(*) returns. */
const INT8_OID = 20;

/** How long taking a new connection may wait, at open and afterwards: a dead server answers a 503 this fast. */
export const CONNECT_TIMEOUT_MS = 3_000;

/**
 * pg gives int8 as a string (it may exceed 2^53). Ours are millisecond times and counts, far below
 * that, and the service treats them as numbers on both engines; a value beyond 2^53 would be read
 * wrong, so it fails the query instead of being rounded silently.
 */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} does not fit a JavaScript number`);
  return value;
}

const getTypeParser = ((oid: number, format?: "text" | "binary") =>
  oid === INT8_OID && format !== "binary"
    ? parseInt8
    : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;

export interface PoolOptions {
  target: ConnectionTarget;
  poolSize: number;
  /** Told of errors on idle connections (the server went away); the pool drops such connections itself. */
  onIdleClientError?: ((error: Error) => void) | undefined;
  /** The class the pool makes its connections with (NamedStatements.clientClass). */
  clientClass?: typeof pg.Client | undefined;
}

/**
 * The pool, with int8 parsed to numbers on its own connections only (pg's global parser table is
 * left alone), connects bounded by CONNECT_TIMEOUT_MS.
 */
export function createPool({ target, poolSize, onIdleClientError, clientClass }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    ...(clientClass === undefined ? {} : { Client: clientClass }),
    ...(target.connectionString === undefined ? {} : { connectionString: target.connectionString }),
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: { getTypeParser },
  });
  // An idle connection whose server goes away (restart, failover, network) emits "error" on the
  // pool; without a listener Node treats it as uncaught and the process dies. The pool has
  // already discarded the connection: the next query takes a new one, or fails with a 503.
  pool.on("error", (error) => onIdleClientError?.(error));
  // A connection lost while checked out (inside a query or a transaction) fails that query, and pg
  // also emits "error" on the client, where pg-pool listens only while it is idle: unheard, that
  // too would crash the process. The query's own rejection is what reports it; the client is no
  // longer queryable, so the pool drops it when it is released.
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

export const LISTENER_APPLICATION_NAME = "billingos-key-cache";
export const CHORE_APPLICATION_NAME = "billingos-chore";

/**
 * A connection of its own, outside the pool: for the key cache's LISTEN (a pooled one goes back to
 * the pool after each query and would stop hearing notifications) and for a chore's session lock.
 * TCP keepalive helps find a silently dead peer; the cache's heartbeat bounds the rest.
 */
export function createDedicatedClient(target: ConnectionTarget, applicationName: string): pg.Client {
  return new pg.Client({
    ...(target.connectionString === undefined ? {} : { connectionString: target.connectionString }),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    // How operators (and tests) tell it apart in pg_stat_activity.
    application_name: applicationName,
  });
}
