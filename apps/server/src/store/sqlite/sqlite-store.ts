import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { DirectReader, DirectStatements } from "./direct-statements.js";
import { DEFAULT_LOCK_WAIT_MS } from "./lock-wait.js";
import { type Database, registerConnections } from "./database-handle.js";
import { migrateToLatest } from "./migrate.js";
import type { DatabaseSchema } from "./schema.js";

export { type Database, directReaderOf, directWriterOf } from "./database-handle.js";

export interface OpenDatabaseOptions {
  /** A file path, or ":memory:" for a private in-memory database. */
  path: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /**
   * How long a write waits in all for the write lock while another process holds it, before a 503
   * (default DEFAULT_LOCK_WAIT_MS, 5 s). The wait is on timers: the event loop keeps serving.
   */
  lockWaitMs?: number;
}

/**
 * The reader's busy timeout. A WAL reader never waits for a writer; it can meet a busy lock only
 * while another connection recovers the WAL after a crash, a rare and short wait spent on the
 * event loop, so it is kept small.
 */
const READER_BUSY_TIMEOUT_MS = 50;

/** Opens SQLite with the settings this service relies on, migrated unless told otherwise. */
export async function openDatabase({ path, migrate = true, lockWaitMs = DEFAULT_LOCK_WAIT_MS }: OpenDatabaseOptions): Promise<Database> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  // WAL lets readers run beside the writer; NORMAL sync in WAL mode loses nothing a process crash
  // could take (only an OS crash can roll back the last commits). Switching a new file to WAL
  // takes a lock another process starting at once may hold: better-sqlite3's default busy timeout
  // (5 s) covers that, before anything is served.
  sqlite.pragma("journal_mode = WAL");
  // From here on the writer never waits inside SQLite: a busy handler sleeps in C on the event loop,
  // freezing every request of the process while another process holds the write lock. Write
  // transactions wait on timers instead (lock-wait.ts), up to `lockWaitMs`.
  sqlite.pragma("busy_timeout = 0");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  // Statement journals (each group-commit unit's savepoint) in memory, not in a temporary file:
  // on disk they cost a pair of writes per page a unit touches (~10 µs a token creation here).
  sqlite.pragma("temp_store = MEMORY");
  // 64 MiB of page cache (the default is 2 MiB): the upper levels of the token and key indexes
  // stay in memory at a million tokens, so a lookup costs no page reads.
  sqlite.pragma("cache_size = -65536");
  let reader: BetterSqlite3.Database | undefined;
  const writer = new DirectStatements(sqlite, lockWaitMs);
  const db = new Kysely<DatabaseSchema>({
    dialect: new SqliteDialect({ database: writer.asKyselyDatabase(() => reader?.close()) }),
  });
  registerConnections(db, writer);
  if (migrate) await migrateToLatest(db);
  if (path !== ":memory:") {
    // A second connection only for the hot point reads outside transactions (verify, key lookup):
    // in WAL mode it reads the last committed state without queueing behind the writer's lock.
    reader = new BetterSqlite3(path);
    reader.pragma("query_only = ON");
    reader.pragma(`busy_timeout = ${READER_BUSY_TIMEOUT_MS}`);
    reader.pragma("cache_size = -65536");
    registerConnections(db, writer, new DirectReader(reader));
  }
  return db;
}
