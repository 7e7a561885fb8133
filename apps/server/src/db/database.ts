import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { DirectReader, DirectStatements } from "./direct-statements.js";
import { migrateToLatest } from "./migrate.js";
import type { DatabaseSchema } from "./schema.js";

export type Database = Kysely<DatabaseSchema>;

export interface OpenDatabaseOptions {
  /** A file path, or ":memory:" for a private in-memory database. */
  path: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
}

/** Opens SQLite with the settings this service relies on, migrated unless told otherwise. */
export async function openDatabase({ path, migrate = true }: OpenDatabaseOptions): Promise<Database> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  // WAL lets readers run beside the writer; NORMAL sync in WAL mode loses nothing a process crash
  // could take (only an OS crash can roll back the last commits). The busy timeout lets a second
  // process (the admin CLI, a second server) wait for the write lock instead of failing.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = ON");
  // Statement journals (each group-commit unit's savepoint) in memory, not in a temporary file:
  // on disk they cost a pair of writes per page a unit touches (~10 µs a token creation here).
  sqlite.pragma("temp_store = MEMORY");
  // 64 MiB of page cache (the default is 2 MiB): the upper levels of the token and key indexes
  // stay in memory at a million tokens, so a lookup costs no page reads.
  sqlite.pragma("cache_size = -65536");
  let reader: BetterSqlite3.Database | undefined;
  const writer = new DirectStatements(sqlite);
  const db = new Kysely<DatabaseSchema>({
    dialect: new SqliteDialect({ database: writer.asKyselyDatabase(() => reader?.close()) }),
  });
  writers.set(db, writer);
  if (migrate) await migrateToLatest(db);
  if (path !== ":memory:") {
    // A second connection only for the hot point reads outside transactions (verify, key lookup):
    // in WAL mode it reads the last committed state without queueing behind the writer's lock.
    reader = new BetterSqlite3(path);
    reader.pragma("query_only = ON");
    reader.pragma("busy_timeout = 5000");
    reader.pragma("cache_size = -65536");
    readers.set(db, new DirectReader(reader));
  }
  return db;
}

const readers = new WeakMap<object, DirectReader>();
const writers = new WeakMap<object, DirectStatements>();

/**
 * The reader of a database as `openDatabase` returned it; undefined for a transaction or a
 * connection-bound handle (whose reads must see their own uncommitted writes) and for :memory:.
 */
export function directReaderOf(db: Database): DirectReader | undefined {
  return readers.get(db);
}

/** The writer connection's statements of a database as `openDatabase` returned it. */
export function directWriterOf(db: Database): DirectStatements | undefined {
  return writers.get(db);
}
