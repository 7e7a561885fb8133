import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Engine } from "../../src/store/queryable.js";
import type { Store } from "../../src/store/store.js";

/** The engine this test run uses: BILLINGOS_TEST_ENGINE (vitest's "postgres" project sets it), else SQLite. */
export const testEngine: Engine = process.env.BILLINGOS_TEST_ENGINE === "postgres" ? "postgres" : "sqlite";

/**
 * A fresh store migrated with the real migrations, on the run's engine: a SQLite file in a new
 * temporary directory (the production read path: reader connection, key cache), or a PostgreSQL
 * database of its own. Closing it removes it.
 */
export async function openTestStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), "billingos-test-"));
  const store = await openSqliteStore({ path: join(dir, "test.sqlite") });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  };
  return store;
}
