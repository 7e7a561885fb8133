import { openSqliteStore } from "./sqlite/sqlite-store.js";
import type { Store } from "./store.js";

export interface StoreSettings {
  /** `postgres://…`: PostgreSQL. Absent: SQLite at `databasePath`. */
  databaseUrl?: string | undefined;
  /** The SQLite file (or ":memory:"). */
  databasePath: string;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
}

/** Opens the store the settings name: PostgreSQL when a database URL is given, else SQLite. */
export async function openStore(settings: StoreSettings): Promise<Store> {
  return openSqliteStore({ path: settings.databasePath, migrate: settings.migrate ?? true });
}
