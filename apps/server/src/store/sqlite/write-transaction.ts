import { CompiledQuery } from "kysely";
import { type Database, directWriterOf } from "./database-handle.js";
import type { DirectStatements } from "./direct-statements.js";
import { DEFAULT_LOCK_WAIT_MS, retryWhileBusy } from "./lock-wait.js";

/** Thrown inside a write transaction to undo it while still returning a result (dry runs). */
class Rollback<T> {
  constructor(readonly result: T) {}
}

export function rollbackWith<T>(result: T): never {
  throw new Rollback(result);
}

/**
 * A transaction that takes SQLite's write lock at BEGIN (IMMEDIATE), so two processes that read
 * then write (a lazy bind, an import) queue for the lock instead of one failing on upgrade. While
 * another connection holds the lock, BEGIN fails at once (the writer's busy timeout is 0) and the
 * whole transaction is tried again after a pause on a timer (`retryWhileBusy`): the event loop keeps
 * serving meanwhile, and this process's connection is free for others between tries. After the
 * database's lock-wait budget (5 s by default) the caller gets a 503 (WriteLockBusyError), never
 * SQLITE_BUSY. `rollbackWith(result)` inside `work` undoes everything and returns `result`.
 */
export async function writeTransaction<T>(
  db: Database,
  work: (trx: Database) => Promise<T>,
  lockWaitMs = directWriterOf(db)?.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
): Promise<T> {
  return retryWhileBusy(() => runOnce(db, work), lockWaitMs);
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
