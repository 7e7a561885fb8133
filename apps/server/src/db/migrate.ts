import type { Kysely } from "kysely";
import type { Database } from "./database-handle.js";
import { migrations } from "./migrations/index.js";
import { retryWhileBusy } from "./lock-wait.js";
import { writeTransaction } from "./write-transaction.js";

/** Kysely's own bookkeeping table, so databases migrated by its Migrator are read the same way. */
const MIGRATION_TABLE = "kysely_migration";

/**
 * Migrations wait longer for the write lock than requests do: a second process may be migrating
 * the same file, and nothing is served before they are done.
 */
const MIGRATION_LOCK_WAIT_MS = 60_000;

async function appliedMigrations(db: Kysely<any>): Promise<Set<string>> {
  const rows: { name: string }[] = await db.selectFrom(MIGRATION_TABLE).select("name").execute();
  return new Set(rows.map((row) => row.name));
}

/**
 * Applies every pending migration, in name order, each in its own write transaction with its
 * record: SQLite's DDL is transactional, so a process killed mid-migration leaves the migration
 * wholly undone and the next start runs it again. (Kysely's Migrator runs SQLite migrations
 * statement by statement, outside any transaction.) The write lock taken at BEGIN also makes a
 * second process starting at the same moment wait, then find the migration done.
 * Returns the names applied by this call.
 */
export async function migrateToLatest(db: Kysely<any>, lockWaitMs = MIGRATION_LOCK_WAIT_MS): Promise<string[]> {
  // Creating the table takes the write lock on a new file only (an existing table is a mere read);
  // the writer does not wait inside SQLite, so it waits here, on timers.
  await retryWhileBusy(
    () =>
      db.schema
        .createTable(MIGRATION_TABLE)
        .ifNotExists()
        .addColumn("name", "varchar(255)", (column) => column.notNull().primaryKey())
        .addColumn("timestamp", "varchar(255)", (column) => column.notNull())
        .execute(),
    lockWaitMs,
  );

  // An up-to-date database (every start) is settled by this one read, without taking the write
  // lock; a pending migration is checked again under the lock, as another process may have run it.
  const appliedBefore = await appliedMigrations(db);
  const applied: string[] = [];
  for (const name of Object.keys(migrations).sort()) {
    if (appliedBefore.has(name)) continue;
    const migration = migrations[name]!;
    const ran = await writeTransaction(db as Database, async (trx) => {
      const any = trx as unknown as Kysely<any>;
      if ((await appliedMigrations(any)).has(name)) return false;
      try {
        await migration.up(any);
      } catch (error) {
        throw new Error(`Migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      await any.insertInto(MIGRATION_TABLE).values({ name, timestamp: new Date().toISOString() }).execute();
      return true;
    }, lockWaitMs);
    if (ran) applied.push(name);
  }
  return applied;
}
