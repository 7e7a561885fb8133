import { CompiledQuery } from "kysely";
import type { Queryable, SchemaKysely } from "../queryable.js";
import { Rollback } from "../rollback.js";
import type { DirectStatements } from "./direct-statements.js";
import { retryWhileBusy } from "./lock-wait.js";

const BEGIN_IMMEDIATE = CompiledQuery.raw("begin immediate");
const COMMIT = CompiledQuery.raw("commit");
const ROLLBACK = CompiledQuery.raw("rollback");

/** SQLite's write transactions are serialized by its write lock already: a lock key adds nothing. */
const alreadySerialized = async (): Promise<void> => {};

/**
 * A transaction that takes SQLite's write lock at BEGIN (IMMEDIATE), so two processes that read
 * then write (a lazy bind, an import) queue for the lock instead of one failing on upgrade. While
 * another connection holds the lock, BEGIN fails at once (the writer's busy timeout is 0) and the
 * whole transaction is tried again after a pause on a timer (`retryWhileBusy`): the event loop keeps
 * serving meanwhile, and this process's connection is free for others between tries. After
 * `lockWaitMs` the caller gets a 503 (WriteLockBusyError), never SQLITE_BUSY.
 * `rollbackWith(result)` inside `work` undoes everything and returns `result`.
 */
export function writeTransaction<T>(
  kysely: SchemaKysely,
  writer: DirectStatements,
  work: (trx: Queryable) => Promise<T>,
  lockWaitMs: number,
): Promise<T> {
  return retryWhileBusy(() => runOnce(kysely, writer, work), lockWaitMs);
}

/** The key cache reads data_version before every hit: any commit empties it already. */
const alreadySeenByDataVersion = () => Promise.resolve();

function runOnce<T>(kysely: SchemaKysely, writer: DirectStatements, work: (trx: Queryable) => Promise<T>): Promise<T> {
  return kysely.connection().execute(async (connection) => {
    // The connection is the writer's, held until the transaction ends: its statements may run on
    // it directly, without Kysely's executor around each one (~3 µs a statement).
    const trx: Queryable = {
      engine: "sqlite",
      kysely: connection,
      run: (sql, parameters) => {
        try {
          return Promise.resolve(writer.execute(sql, parameters));
        } catch (error) {
          return Promise.reject(error);
        }
      },
      lock: alreadySerialized,
      invalidateCachedReads: alreadySeenByDataVersion,
      forShare: (query) => query,
    };
    await connection.executeQuery(BEGIN_IMMEDIATE);
    try {
      const result = await work(trx);
      await connection.executeQuery(COMMIT);
      return result;
    } catch (error) {
      await connection.executeQuery(ROLLBACK);
      if (error instanceof Rollback) return error.result as T;
      throw error;
    }
  });
}
