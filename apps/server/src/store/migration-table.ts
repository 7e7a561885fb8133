/** Kysely's own bookkeeping table, so databases migrated by its Migrator are read the same way. */
export const MIGRATION_TABLE = "kysely_migration";
