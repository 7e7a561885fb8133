import { sql } from "kysely";
import type { Database } from "./database.js";

/** Thrown inside a write transaction to undo it while still returning a result (dry runs). */
class Rollback<T> {
  constructor(readonly result: T) {}
}

export function rollbackWith<T>(result: T): never {
  throw new Rollback(result);
}

/**
 * A transaction that takes SQLite's write lock at BEGIN (IMMEDIATE), so two processes that read
 * then write (a lazy bind, an import) queue on the busy timeout instead of one failing on upgrade.
 * `rollbackWith(result)` inside `work` undoes everything and returns `result`.
 */
export async function writeTransaction<T>(db: Database, work: (trx: Database) => Promise<T>): Promise<T> {
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection);
      if (error instanceof Rollback) return error.result as T;
      throw error;
    }
  });
}
