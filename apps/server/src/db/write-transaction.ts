import { CompiledQuery } from "kysely";
import { type Database, directWriterOf } from "./database.js";
import type { DirectStatements } from "./direct-statements.js";

/** Thrown inside a write transaction to undo it while still returning a result (dry runs). */
class Rollback<T> {
  constructor(readonly result: T) {}
}

export function rollbackWith<T>(result: T): never {
  throw new Rollback(result);
}

const BUSY_RETRIES = 5;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT" || code === "SQLITE_LOCKED";
}

/**
 * A transaction that takes SQLite's write lock at BEGIN (IMMEDIATE), so two processes that read
 * then write (a lazy bind, an import) queue on the busy timeout instead of one failing on upgrade.
 * Should the lock still be busy after the timeout, the whole transaction is retried a few times
 * with a jittered pause, so callers see no SQLITE_BUSY. `rollbackWith(result)` inside `work`
 * undoes everything and returns `result`.
 */
export async function writeTransaction<T>(db: Database, work: (trx: Database) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await runOnce(db, work);
    } catch (error) {
      if (!isBusy(error) || attempt >= BUSY_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}

const BEGIN_IMMEDIATE = CompiledQuery.raw("begin immediate");
const COMMIT = CompiledQuery.raw("commit");
const ROLLBACK = CompiledQuery.raw("rollback");

const transactionStatements = new WeakMap<Database, DirectStatements>();

/**
 * The writer connection's statements when `db` is the handle of a write transaction: the handle
 * holds that connection until the transaction ends, so its statements may run on it directly.
 */
export function writeTransactionStatementsOf(db: Database): DirectStatements | undefined {
  return transactionStatements.get(db);
}

/** Runs a raw statement (a savepoint, say) inside a write transaction, directly when it can. */
export async function executeInTransaction(trx: Database, query: CompiledQuery): Promise<void> {
  const direct = transactionStatements.get(trx);
  if (direct !== undefined) direct.execute(query.sql, query.parameters);
  else await trx.executeQuery(query);
}

async function runOnce<T>(db: Database, work: (trx: Database) => Promise<T>): Promise<T> {
  const writer = directWriterOf(db);
  return db.connection().execute(async (connection) => {
    if (writer !== undefined) transactionStatements.set(connection, writer);
    await connection.executeQuery(BEGIN_IMMEDIATE);
    try {
      const result = await work(connection);
      await connection.executeQuery(COMMIT);
      return result;
    } catch (error) {
      await connection.executeQuery(ROLLBACK);
      if (error instanceof Rollback) return error.result as T;
      throw error;
    }
  });
}
