import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from "kysely";
import { migrateToLatest } from "./migrate.js";
import type { DatabaseSchema } from "./schema.js";

export type Database = Kysely<DatabaseSchema>;

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running a point
 * lookup. The query builder produces a handful of distinct SQL strings, so their statements are
 * kept and reused (least recently added dropped first, should an unusual query shape appear).
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statement = sqlite.prepare(sql) as unknown as SqliteStatement;
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

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
  const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  if (migrate) await migrateToLatest(db);
  return db;
}
