import { type Kysely, sql } from "kysely";
import { createMigrationTable, type ExclusiveTransaction, migrateToLatest } from "../migrate.js";
import { advisoryLockSql } from "./postgres-queryable.js";

/**
 * The advisory lock every process migrating this database takes. Its own namespace: no key that
 * Queryable.lock is given starts with it.
 */
const MIGRATION_LOCK_KEY = "billingos:schema-migration";

/**
 * A transaction holding the migration lock: a second process starting at the same moment waits
 * here (as long as it takes: no request is served before migrations end) and then finds the
 * work done.
 */
function exclusively(kysely: Kysely<any>): ExclusiveTransaction {
  return (work) =>
    kysely.transaction().execute(async (trx) => {
      await sql.raw(advisoryLockSql(MIGRATION_LOCK_KEY, "exclusive")).execute(trx);
      return work(trx);
    });
}

/**
 * Applies pending migrations, each in its own transaction under the lock (PostgreSQL's DDL is
 * transactional: a process killed mid-migration leaves nothing of it). The bookkeeping table is
 * created under the same lock: two CREATE TABLE IF NOT EXISTS running at once can both see no
 * table and one then fails on the catalog's unique index. Returns the names applied.
 */
export async function migratePostgres(kysely: Kysely<any>): Promise<string[]> {
  const inLock = exclusively(kysely);
  await inLock((trx) => createMigrationTable(trx));
  return migrateToLatest(kysely, inLock);
}
