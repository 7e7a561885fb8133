import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll } from "vitest";
import { MIGRATION_TABLE } from "../../src/store/migrate.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import type { Engine } from "../../src/store/queryable.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { createPostgresDatabase, type PostgresTestDatabase } from "./postgres-databases.js";

/** The engine this test run uses: BILLINGOS_TEST_ENGINE (vitest's "postgres" project sets it), else SQLite. */
export const testEngine: Engine = process.env.BILLINGOS_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";

/** Connections a test store's pool may open: tests race a handful of transactions at most. */
const TEST_POOL_SIZE = 6;

/** Runs `cleanUp` after the store is closed. */
function closingWith(store: Store, cleanUp: () => Promise<void> | void): Store {
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await cleanUp();
  };
  return store;
}

/**
 * A fresh store migrated with the real migrations, on the run's engine: a SQLite file in a new
 * temporary directory (the production read path: reader connection, key cache), or a PostgreSQL
 * database of its own, cloned from a migrated template. Closing it removes it.
 */
export async function openTestStore(): Promise<Store> {
  if (testEngine === "postgres") return openPostgresTestStore();
  const dir = mkdtempSync(join(tmpdir(), "billingos-test-"));
  const store = await openSqliteStore({ path: join(dir, "test.sqlite") });
  return closingWith(store, () => rmSync(dir, { recursive: true, force: true }));
}

/**
 * A test file's PostgreSQL databases, emptied and kept for its next store rather than dropped:
 * emptying takes milliseconds, cloning the template a hundred (a property test opens a store per
 * case). Each file drops its own when it ends.
 */
const idleDatabases: PostgresTestDatabase[] = [];
if (testEngine === "postgres")
  afterAll(async () => Promise.all(idleDatabases.splice(0).map((database) => database.drop())));

/** The schema as the migrations left it: tables, columns, indexes, applied migrations. */
async function schemaSignature(store: Store): Promise<string> {
  const { rows } = await sql<{ signature: string }>`
    select concat_ws('|',
      (select string_agg(table_name || '.' || column_name || ':' || data_type || ':' || coalesce(collation_name, ''), ',' order by table_name, column_name)
         from information_schema.columns where table_schema = current_schema()),
      (select string_agg(indexdef, ',' order by indexdef) from pg_indexes where schemaname = current_schema()),
      (select string_agg(name, ',' order by name) from ${sql.table(MIGRATION_TABLE)})) as signature`.execute(
    store.kysely,
  );
  return rows[0]!.signature;
}

let templateSignature: string | undefined;

async function openPostgresTestStore(): Promise<Store> {
  const database = idleDatabases.pop() ?? (await createPostgresDatabase());
  const store = await openPostgresStore({ url: database.url, poolSize: TEST_POOL_SIZE, migrate: false });
  templateSignature ??= await schemaSignature(store);
  const close = store.close.bind(store);
  store.close = async () => {
    let reusable = false;
    try {
      // A test that changed the schema on purpose (a dropped table, an undone migration) leaves a
      // database that is dropped, not reused.
      if ((await schemaSignature(store)) === templateSignature) {
        const { rows } = await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name <> ${MIGRATION_TABLE}`.execute(
          store.kysely,
        );
        await sql`truncate ${sql.join(rows.map((row) => sql.table(row.name)))}`.execute(store.kysely);
        reusable = true;
      }
    } catch {
      // Unreadable: dropped below.
    }
    await close();
    if (reusable) idleDatabases.push(database);
    else await database.drop();
  };
  return store;
}
/** Several stores on ONE database (as several server processes sharing it have), and how a child process names it. */
export interface SharedTestStores {
  stores: Store[];
  /** DATABASE_PATH or DATABASE_URL for a server process on the same database. */
  databaseEnv: Record<string, string>;
  close(): Promise<void>;
}

/** `count` stores on one fresh, migrated database of the run's engine; closing closes them and removes it. */
export async function openSharedTestStores(count: number): Promise<SharedTestStores> {
  if (testEngine === "postgres") {
    const database = await createPostgresDatabase();
    const stores: Store[] = [];
    for (let i = 0; i < count; i++)
      stores.push(await openPostgresStore({ url: database.url, poolSize: TEST_POOL_SIZE, migrate: false }));
    return {
      stores,
      databaseEnv: { DATABASE_URL: database.url },
      close: async () => {
        for (const store of stores) await store.close();
        await database.drop();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "billingos-shared-"));
  const path = join(dir, "billingos.sqlite");
  const stores: Store[] = [];
  for (let i = 0; i < count; i++) stores.push(await openSqliteStore({ path }));
  return {
    stores,
    databaseEnv: { DATABASE_PATH: path },
    close: async () => {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
