import type BetterSqlite3 from "better-sqlite3";
import type { QueryResult, SqliteDatabase, SqliteStatement } from "kysely";

const STATEMENT_CACHE_SIZE = 256;

/**
 * One SQLite connection's prepared statements, kept by SQL text, and run the way Kysely's SQLite
 * driver runs them (same result shape), but synchronously and without Kysely's executor around
 * them. Kysely's driver prepares every query anew, which costs more than running a point lookup;
 * the query builder produces a handful of distinct SQL strings, so their statements are kept
 * (least recently added dropped first, should an unusual query shape appear).
 */
export class DirectStatements {
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(
    readonly sqlite: BetterSqlite3.Database,
    /** For the writer: how long a write transaction waits for the lock in all (lock-wait.ts). */
    readonly lockWaitMs = 0,
  ) {}

  prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.delete(this.#statements.keys().next().value!);
      statement = this.sqlite.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  execute<Row>(sql: string, parameters: readonly unknown[]): QueryResult<Row> {
    const statement = this.prepare(sql);
    if (statement.reader) return { rows: statement.all(parameters) as Row[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  /** The connection as Kysely's SqliteDialect takes it, sharing these statements. */
  asKyselyDatabase(onClose: () => void): SqliteDatabase {
    return {
      close: () => {
        onClose();
        this.sqlite.close();
      },
      prepare: (sql) => this.prepare(sql) as unknown as SqliteStatement,
    };
  }
}

/** The reader connection's statements, and its data_version. */
export class DirectReader extends DirectStatements {
  readonly #dataVersion = this.sqlite.prepare("pragma data_version").pluck();

  /**
   * SQLite's `PRAGMA data_version` on the reader connection: it changes whenever any other
   * connection (this process's writer, another process) commits. Equal values mean nothing was
   * committed in between, so anything read in between is still what the database holds.
   */
  dataVersion(): number {
    return this.#dataVersion.get() as number;
  }
}
