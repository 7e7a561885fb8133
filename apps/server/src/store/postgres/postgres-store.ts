import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import type pg from "pg";
import type { RetryLaterError } from "../../shared/domain-error.js";
import type { Queryable, SchemaKysely, SharedLockable } from "../queryable.js";
import type { AloneOutcome, GuardedInsert, Store, TransactionOptions } from "../store.js";
import { insertIfParameters, insertIfSql } from "./insert-if.js";
import { migratePostgres } from "./postgres-migrate.js";
import { notifyCacheChange } from "./postgres-queryable.js";
import { retryingConflicts, runTransaction, type TransactionContext } from "./postgres-transaction.js";
import { runAlone } from "./run-alone.js";
import { DatabaseTimeoutError, retryLaterFor } from "./transient-errors.js";

/** How long a health check waits for `select 1`. */
export const PING_TIMEOUT_MS = 2_000;

/** The Store on PostgreSQL: a pg pool under Kysely, shared by every host of the service. */
export class PostgresStore implements Store {
  readonly engine = "postgres" as const;

  /** `context.cache` absent: no key cache (every read goes to the database). */
  constructor(
    readonly kysely: SchemaKysely,
    private readonly context: TransactionContext,
    private readonly newChoreClient: () => pg.Client,
  ) {}

  runAlone<T>(name: string, work: () => Promise<T>): Promise<AloneOutcome<T>> {
    return runAlone(this.newChoreClient, name, work);
  }

  run<Row>(text: string, parameters: readonly unknown[]) {
    return this.context.statements.runOnPool<Row>(this.context.pool, text, parameters);
  }

  async invalidateCachedReads(): Promise<void> {
    await notifyCacheChange(this.kysely);
    this.context.cache?.invalidate();
  }

  forShare<Query extends SharedLockable<Query>>(query: Query): Query {
    return query.forShare();
  }

  lock(key: string): Promise<void> {
    // Outside a transaction the lock would be released at once (autocommit): a caller relying on it
    // would race unprotected. This is a programming error, so it fails loudly.
    return Promise.reject(new Error(`lock("${key}") called outside a transaction: take it inside store.transaction()`));
  }

  transaction<T>(work: (trx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return runTransaction(this.kysely, this.context, work, options);
  }

  /**
   * No group commit here: PostgreSQL commits concurrent transactions from many connections in
   * parallel and batches their WAL flushes itself, while SQLite has one writer, where running units
   * that arrive together in one commit is what saves the fsyncs.
   */
  groupedTransaction<T>(work: (trx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
    return this.transaction(work, options);
  }

  singleStatementWrite<T>(write: (db: Queryable) => Promise<T>): Promise<T> {
    return write(this);
  }

  async insertIf<Row extends { proceed: unknown }>(
    write: GuardedInsert,
  ): Promise<{ row: Row; inserted: boolean } | undefined> {
    const text = insertIfSql(write);
    const parameters = insertIfParameters(write);
    const { rows } = await retryingConflicts(() =>
      this.context.statements.runOnPool<Row & { inserted: boolean }>(this.context.pool, text, parameters),
    );
    const answer = rows[0];
    if (answer === undefined) return undefined;
    const { inserted, ...row } = answer;
    return { row: row as unknown as Row, inserted };
  }

  /**
   * Through the key cache kept while this host LISTENs for changes (notified-cache.ts): a revoked
   * key is refused by this host on its next call, and by the others once PostgreSQL's notification
   * reaches them. Without the cache (POSTGRES_KEY_CACHE=off), every read goes to the database.
   */
  cachedRead<Row>(cacheKey: string, load: (db: Queryable) => Promise<Row | undefined>): Promise<Row | undefined> {
    const cache = this.context.cache;
    return cache === undefined ? load(this) : cache.read(cacheKey, () => load(this));
  }

  migrate(): Promise<string[]> {
    return migratePostgres(this.kysely);
  }

  retryLaterFor(error: unknown): RetryLaterError | undefined {
    return retryLaterFor(error);
  }

  async ping(): Promise<void> {
    const abort = new AbortController();
    const timeout = sleep(PING_TIMEOUT_MS, undefined, { signal: abort.signal }).then(() => {
      throw new DatabaseTimeoutError(`The database did not answer within ${PING_TIMEOUT_MS} ms`);
    });
    timeout.catch(() => {}); // The timer is aborted (rejects) once the query settles first.
    try {
      await Promise.race([sql`select 1`.execute(this.kysely), timeout]);
    } finally {
      abort.abort();
    }
  }

  async close(): Promise<void> {
    await this.context.cache?.close();
    await this.kysely.destroy();
  }
}
