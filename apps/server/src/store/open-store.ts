import { openPostgresStore } from "./postgres/open-postgres-store.js";
import { openSqliteStore } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

export interface StoreSettings {
  /** `postgres://…`: PostgreSQL (PG* variables fill in what it leaves out). Absent: SQLite at `databasePath`. */
  databaseUrl?: string | undefined;
  /** The SQLite file (or ":memory:"). */
  databasePath: string;
  /** PostgreSQL: connections at most in this process's pool (default 10). */
  poolSize?: number | undefined;
  /** PostgreSQL: "listen" (default) keeps found keys while listening for changes; "off" reads them every time. */
  keyCache?: "listen" | "off" | undefined;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean | undefined;
  /** PostgreSQL: told of errors on idle pooled connections (the server went away). */
  onIdleClientError?: ((error: Error) => void) | undefined;
}

export const DEFAULT_POOL_SIZE = 10;

/**
 * Opens the store the settings name: PostgreSQL when a database URL is given, else SQLite. A
 * store that cannot be opened throws StoreOpenError (one line, no password).
 */
export async function openStore(settings: StoreSettings): Promise<Store> {
  if (settings.databaseUrl !== undefined) {
    return openPostgresStore({
      url: settings.databaseUrl,
      poolSize: settings.poolSize ?? DEFAULT_POOL_SIZE,
      migrate: settings.migrate ?? true,
      onIdleClientError: settings.onIdleClientError,
      keyCache: settings.keyCache,
    });
  }
  return openSqliteStore({ path: settings.databasePath, migrate: settings.migrate ?? true });
}
