import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MIGRATION_TABLE } from "../../src/store/migrate.js";
import { migrations } from "../../src/store/migrations/index.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import type { Store } from "../../src/store/store.js";
import {
  createEmptyPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
} from "../support/postgres-databases.js";

const describePostgres = await describeOnPostgres();
const migrationNames = Object.keys(migrations).sort();

async function appliedNames(store: Store): Promise<string[]> {
  const rows = await store.kysely
    .selectFrom(MIGRATION_TABLE as never)
    .select("name" as never)
    .orderBy("name" as never)
    .execute();
  return rows.map((row) => (row as { name: string }).name);
}

describePostgres("migrations on PostgreSQL", () => {
  let database: PostgresTestDatabase;
  let store: Store;

  beforeAll(async () => {
    database = await createEmptyPostgresDatabase();
    store = await openPostgresStore({ url: database.url, poolSize: 2 });
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("applies every migration to an empty database, each recorded once", async () => {
    expect(await appliedNames(store)).toEqual(migrationNames);
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = current_schema() order by table_name
    `.execute(store.kysely);
    expect(rows.map((row) => row.table_name)).toEqual([
      "ambiguous_customer_emails",
      "api_keys",
      "audit_events",
      "customer_binding_counts",
      "idempotency_keys",
      "imported_customers",
      MIGRATION_TABLE,
      "organizations",
      "rate_limit_buckets",
      "session_tokens",
    ]);
  });

  it("gives every text column the bytewise C collation", async () => {
    const { rows } = await sql<{ table_name: string; column_name: string; collation_name: string | null }>`
      select table_name, column_name, collation_name from information_schema.columns
      where table_schema = current_schema() and data_type = 'text'
    `.execute(store.kysely);
    expect(rows.length).toBeGreaterThan(30);
    expect(rows.filter((row) => row.collation_name !== "C")).toEqual([]);
  });

  it("finds nothing to do when opened again", async () => {
    const again = await openPostgresStore({ url: database.url, poolSize: 1 });
    await again.close();
    expect(await appliedNames(store)).toEqual(migrationNames);
  });
});
