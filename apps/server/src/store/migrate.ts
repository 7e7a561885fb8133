import type { Kysely } from "kysely";
import { MIGRATION_TABLE } from "./migration-table.js";
import { migrations } from "./migrations/index.js";

export { MIGRATION_TABLE };

/**
 * Runs `work` in a transaction that no other process migrating the same database runs beside:
 * SQLite's write lock taken at BEGIN IMMEDIATE, PostgreSQL's transaction-scoped advisory lock. An
 * engine waits for it longer than a request would (a second process may be migrating).
 */
export type ExclusiveTransaction = <T>(work: (trx: Kysely<any>) => Promise<T>) => Promise<T>;

async function appliedMigrations(db: Kysely<any>): Promise<Set<string>> {
  const rows: { name: string }[] = await db.selectFrom(MIGRATION_TABLE).select("name").execute();
  return new Set(rows.map((row) => row.name));
}

/** Creates the bookkeeping table if missing (on its own: both engines' DDL is transactional). */
export async function createMigrationTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable(MIGRATION_TABLE)
    .ifNotExists()
    .addColumn("name", "varchar(255)", (column) => column.notNull().primaryKey())
    .addColumn("timestamp", "varchar(255)", (column) => column.notNull())
    .execute();
}

/**
 * Applies every pending migration, in name order, each in its own exclusive transaction with its
 * record: both engines' DDL is transactional, so a process killed mid-migration leaves the
 * migration wholly undone and the next start runs it again; a second process starting at the same
 * moment waits, then finds the migration done. (Kysely's Migrator runs SQLite migrations statement
 * by statement, outside any transaction.) The migration table must exist (createMigrationTable).
 * Returns the names applied by this call.
 */
export async function migrateToLatest(db: Kysely<any>, exclusively: ExclusiveTransaction): Promise<string[]> {
  // An up-to-date database (every start) is settled by this one read, without any lock; a pending
  // migration is checked again under the lock, as another process may have run it meanwhile.
  const appliedBefore = await appliedMigrations(db);
  const applied: string[] = [];
  for (const name of Object.keys(migrations).sort()) {
    if (appliedBefore.has(name)) continue;
    const migration = migrations[name]!;
    const ran = await exclusively(async (trx) => {
      if ((await appliedMigrations(trx)).has(name)) return false;
      try {
        await migration.up(trx);
      } catch (error) {
        throw new Error(`Migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
      await trx.insertInto(MIGRATION_TABLE).values({ name, timestamp: new Date().toISOString() }).execute();
      return true;
    });
    if (ran) applied.push(name);
  }
  return applied;
}
