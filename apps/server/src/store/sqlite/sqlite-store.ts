import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { CompiledQuery, Kysely, SqliteDialect } from "kysely";
import { createMigrationTable, migrateToLatest } from "../migrate.js";
import type { Queryable } from "../queryable.js";
import type { DatabaseSchema } from "../schema.js";
import type { AloneOutcome, GuardedInsert, Store } from "../store.js";
import { DataVersionCache } from "./data-version-cache.js";
import { DirectReader, DirectStatements } from "./direct-statements.js";
import { GroupCommit } from "./group-commit.js";
import { insertIfInUnit } from "./insert-if.js";
import { DEFAULT_LOCK_WAIT_MS, retryLaterForBusy, retryWhileBusy } from "./lock-wait.js";
import { sqliteOpenError } from "./sqlite-open-error.js";
import { writeTransaction } from "./write-transaction.js";

export interface SqliteStoreOptions {
  /** A file path, or ":memory:" for a private in-memory database (no reader connection, no key cache). */
  path: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /**
   * How long a write waits in all for the write lock while another process holds it, before a 503
   * (default DEFAULT_LOCK_WAIT_MS, 5 s). The wait is on timers: the event loop keeps serving.
   */
  lockWaitMs?: number;
  /** Called with each statement's SQL, its values bound in, on every connection (query-plan checks). */
  verbose?: (sql: string) => void;
}

/**
 * The reader's busy timeout. A WAL reader never waits for a writer; it can meet a busy lock only
 * while another connection recovers the WAL after a crash, a rare and short wait spent on the
 * event loop, so it is kept small.
 */
const READER_BUSY_TIMEOUT_MS = 50;

/**
 * Migrations wait longer for the write lock than requests do: a second process may be migrating
 * the same file, and nothing is served before they are done.
 */
const MIGRATION_LOCK_WAIT_MS = 60_000;

function openWriter(path: string, verbose: SqliteStoreOptions["verbose"]): BetterSqlite3.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path, { verbose: verbose as ((message?: unknown) => void) | undefined });
  // WAL lets readers run beside the writer; NORMAL sync in WAL mode loses nothing a process crash
  // could take (only an OS crash can roll back the last commits). Switching a new file to WAL
  // takes a lock another process starting at once may hold: better-sqlite3's default busy timeout
  // (5 s) covers that, before anything is served.
  sqlite.pragma("journal_mode = WAL");
  // From here on the writer never waits inside SQLite: a busy handler sleeps in C on the event loop,
  // freezing every request of the process while another process holds the write lock. Write
  // transactions wait on timers instead (lock-wait.ts).
  sqlite.pragma("busy_timeout = 0");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  // Statement journals (each group-commit unit's savepoint) in memory, not in a temporary file:
  // on disk they cost a pair of writes per page a unit touches (~10 µs a token creation here).
  sqlite.pragma("temp_store = MEMORY");
  // 64 MiB of page cache (the default is 2 MiB): the upper levels of the token and key indexes
  // stay in memory at a million tokens, so a lookup costs no page reads.
  sqlite.pragma("cache_size = -65536");
  return sqlite;
}

/**
 * A second connection only for the hot point reads outside transactions (verify, key lookup): in
 * WAL mode it reads the last committed state without queueing behind the writer's lock.
 */
function openReader(path: string, verbose: SqliteStoreOptions["verbose"]): DirectReader {
  const reader = new BetterSqlite3(path, { verbose: verbose as ((message?: unknown) => void) | undefined });
  reader.pragma("query_only = ON");
  reader.pragma(`busy_timeout = ${READER_BUSY_TIMEOUT_MS}`);
  reader.pragma("cache_size = -65536");
  return new DirectReader(reader);
}

/** Opens SQLite with the settings this service relies on, migrated unless told otherwise. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { path, migrate = true, lockWaitMs = DEFAULT_LOCK_WAIT_MS, verbose } = options;
  let writer: DirectStatements | undefined;
  let reader: DirectReader | undefined;
  try {
    writer = new DirectStatements(openWriter(path, verbose));
    const kysely = new Kysely<DatabaseSchema>({
      dialect: new SqliteDialect({ database: writer.asKyselyDatabase(() => reader?.sqlite.close()) }),
    });
    if (path !== ":memory:") reader = openReader(path, verbose);
    const store = new SqliteStore(kysely, writer, reader, lockWaitMs);
    if (migrate) await store.migrate();
    return store;
  } catch (error) {
    // A folder, a read-only place, a file that is not a database: one line (StoreOpenError), not a stack.
    reader?.sqlite.close();
    if (writer?.sqlite.open) writer.sqlite.close();
    throw sqliteOpenError(path, error);
  }
}

class SqliteStore implements Store {
  readonly engine = "sqlite";
  readonly #groupCommit: GroupCommit;
  readonly #cache: DataVersionCache | undefined;

  constructor(
    readonly kysely: Kysely<DatabaseSchema>,
    private readonly writer: DirectStatements,
    private readonly reader: DirectReader | undefined,
    private readonly lockWaitMs: number,
  ) {
    this.#groupCommit = new GroupCommit((work) => this.transaction(work));
    this.#cache = reader === undefined ? undefined : new DataVersionCache(reader);
  }

  run<Row>(sql: string, parameters: readonly unknown[], isSelect: boolean) {
    // Reads outside a transaction go to the reader (the last committed state); anything else queues
    // behind the writer's transactions through Kysely.
    if (!isSelect || this.reader === undefined)
      return this.kysely.executeQuery<Row>(CompiledQuery.raw(sql, [...parameters]));
    try {
      return Promise.resolve(this.reader.execute<Row>(sql, parameters));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  lock(): Promise<void> {
    return Promise.reject(new Error("lock() is for a transaction handle, not the store"));
  }

  async runAlone<T>(_name: string, work: () => Promise<T>): Promise<AloneOutcome<T>> {
    return { ran: true, value: await work() };
  }

  forShare<Query>(query: Query): Query {
    return query; // writes are serialized: a read in a write unit is current and stays so
  }

  invalidateCachedReads(): Promise<void> {
    return Promise.resolve(); // data_version sees every commit (data-version-cache.ts)
  }

  // TransactionOptions.lock is not taken: write transactions are serialized already.
  transaction<T>(work: (trx: Queryable) => Promise<T>): Promise<T> {
    return writeTransaction(this.kysely, this.writer, work, this.lockWaitMs);
  }

  groupedTransaction<T>(work: (trx: Queryable) => Promise<T>): Promise<T> {
    return this.#groupCommit.run(work);
  }

  singleStatementWrite<T>(write: (db: Queryable) => Promise<T>): Promise<T> {
    return this.groupedTransaction(write);
  }

  insertIf<Row extends { proceed: unknown }>(write: GuardedInsert) {
    return this.groupedTransaction((trx) => insertIfInUnit<Row>(trx, write));
  }

  cachedRead<Row>(cacheKey: string, load: (db: Queryable) => Promise<Row | undefined>): Promise<Row | undefined> {
    if (this.#cache === undefined) return load(this);
    return this.#cache.read(cacheKey, () => load(this));
  }

  async migrate(): Promise<string[]> {
    // Creating the table takes the write lock on a new file only (an existing table is a mere
    // read); the writer does not wait inside SQLite, so it waits here, on timers.
    await retryWhileBusy(() => createMigrationTable(this.kysely), MIGRATION_LOCK_WAIT_MS);
    return migrateToLatest(this.kysely, (work) =>
      writeTransaction(this.kysely, this.writer, (trx) => work(trx.kysely), MIGRATION_LOCK_WAIT_MS),
    );
  }

  retryLaterFor(error: unknown) {
    return retryLaterForBusy(error);
  }

  async ping(): Promise<void> {
    if (this.reader !== undefined) this.reader.dataVersion();
    else await this.kysely.executeQuery(CompiledQuery.raw("select 1"));
  }

  close(): Promise<void> {
    return this.kysely.destroy();
  }
}
