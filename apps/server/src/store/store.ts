import type { RetryLaterError } from "../shared/domain-error.js";
import type { LockMode, Queryable } from "./queryable.js";

/** How a unit of work starts (Store.transaction). */
export interface TransactionOptions {
  /**
   * A lock key the unit holds from its first statement, as if its first step were
   * `trx.lock(key, mode)`: PostgreSQL takes it with BEGIN in the same round trip.
   */
  lock?: { key: string; mode: LockMode } | undefined;
}

/** One row to store in `table` (Store.insertIf); `values` bound in the order of `columns`. */
export interface RowInsert {
  table: string;
  columns: readonly string[];
  values: readonly unknown[];
}

/**
 * A write that a read decides (Store.insertIf). `guard` is SQL compiled for the store's engine
 * (prepared-query.ts `preparedSql`): a select of exactly one row whose `proceed` column, a boolean
 * SQL expression (PostgreSQL filters on it as it is), lets `inserts` be stored. A guard that must
 * see a row's latest committed version, and keep it so until the inserts commit, locks it with
 * `Queryable.forShare`.
 */
export interface GuardedInsert {
  guard: { sql: string; parameters: readonly unknown[] };
  inserts: readonly [RowInsert, ...RowInsert[]];
}

/** What Store.runAlone did: ran the work, or found another process running work of that name. */
export type AloneOutcome<T> = { ran: true; value: T } | { ran: false };

/**
 * The storage port: what services receive through their deps, whatever the engine. Opened by
 * open-store.ts from DATABASE_URL (PostgreSQL) or DATABASE_PATH (SQLite), migrated.
 */
export interface Store extends Queryable {
  /**
   * Runs `work` in one transaction and commits it. Failures the engine can tell are transient (a
   * write lock held by another process on SQLite; a serialization failure or deadlock on
   * PostgreSQL) run the whole unit again, a bounded number of times, then give a 503
   * (RetryLaterError). `work` must therefore have no effect outside the transaction.
   * `rollbackWith(result)` inside `work` undoes everything and returns `result`.
   */
  transaction<T>(work: (trx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Like `transaction`, for small units that arrive many at a time (token creation, revocation):
   * an engine may run units that arrive together in one commit (SQLite's group commit), each seeing
   * the ones before it; each unit is still undone alone if it throws, and answered once durable.
   */
  groupedTransaction<T>(work: (trx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Runs `write`, ONE statement that is atomic on its own (an upsert … returning), the engine's
   * cheapest way: PostgreSQL in autocommit, one round trip, so the rows it locks stay locked only
   * while the server runs it; SQLite as a grouped unit, which waits its turn for a write lock held by
   * another process (a write outside a unit would fail at once) and shares a commit with the units
   * arriving with it.
   */
  singleStatementWrite<T>(write: (db: Queryable) => Promise<T>): Promise<T>;
  /**
   * Reads `guard` and, when its row says proceed, stores `inserts`, all or nothing; answers the guard's
   * row and whether the rows were stored. PostgreSQL sends it as ONE statement in autocommit (one
   * round trip: the inserts as data-modifying CTEs), SQLite as a grouped unit. For the hottest write
   * (token creation), where BEGIN, COMMIT and a round trip per statement cost PostgreSQL more than
   * the work. Undefined when the guard gave no row, or when this store declines (a request with an
   * Idempotency-Key is recorded in a unit of its own): the caller then does the work as a unit.
   */
  insertIf<Row extends { proceed: unknown }>(
    write: GuardedInsert,
  ): Promise<{ row: Row; inserted: boolean } | undefined>;
  /**
   * A read of rarely changing rows by key (the API key lookup every merchant call makes), through the
   * engine's cache: SQLite keeps found rows while its data_version says nothing was committed since;
   * PostgreSQL reads every time. A miss is never kept. `load` reads on the store itself.
   */
  cachedRead<Row>(cacheKey: string, load: (db: Queryable) => Promise<Row | undefined>): Promise<Row | undefined>;
  /**
   * Runs `work` unless another process of the service is running work of the same name, in which
   * case it resolves `{ ran: false }` at once: for chores one host does at a time (the retention
   * purge). PostgreSQL holds a session advisory lock on a connection of its own while `work` runs
   * (the server releases it if this process dies); SQLite runs it (its writes are serialized).
   */
  runAlone<T>(name: string, work: () => Promise<T>): Promise<AloneOutcome<T>>;
  /** The error a caller should get for a transient storage failure (busy, unreachable), else undefined. */
  retryLaterFor(error: unknown): RetryLaterError | undefined;
  /** Applies pending migrations (open-store does unless told not to); returns the names applied. */
  migrate(): Promise<string[]>;
  /** Resolves once the database answers; rejects while it cannot be reached (health). */
  ping(): Promise<void>;
  /** Closes every connection; on SQLite, checkpoints the WAL into the main file. */
  close(): Promise<void>;
}
