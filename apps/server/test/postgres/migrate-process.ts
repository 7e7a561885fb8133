// A process that migrates the database at argv[2], as a server starting would, and prints how many
// migrations it applied itself. With argv[3] (epoch ms) it first waits until then, so several such
// processes start migrating at the same moment.
import { setTimeout as sleep } from "node:timers/promises";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import { migratePostgres } from "../../src/store/postgres/postgres-migrate.js";

const [url, startAt] = process.argv.slice(2);
if (startAt !== undefined) await sleep(Math.max(0, Number(startAt) - Date.now()));
const store = await openPostgresStore({ url, poolSize: 1, migrate: false });
try {
  const applied = await migratePostgres(store.kysely);
  console.log(`applied ${applied.length}`);
} finally {
  await store.close();
}
