import { type Kysely, PostgresAdapter } from "kysely";

/** Whether a migration runs on PostgreSQL, told by the Kysely adapter (the dialect in use). */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
