import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiKey, type Database, openDatabase, type RunningHttpServer, systemClock } from "@billingos/server";
import type { BillingOS } from "../../src/index.js";
import { type CreatedKey, serveDatabase } from "../server-harness.js";

export type { CreatedKey };

/** One server process's worth of state: its own database handle and its own HTTP server. */
export interface ServerInstance {
  db: Database;
  server: RunningHttpServer;
  client(secretKey: string): BillingOS;
}

/**
 * Real HTTP servers on port 0 over one SQLite FILE in a fresh temp directory, each instance with its
 * own `openDatabase` handle (as two server processes sharing a database would have). Organization
 * "Acme" has a test key, created through the first instance.
 */
export interface FileServers {
  path: string;
  instances: ServerInstance[];
  testKey: CreatedKey;
  close(): Promise<void>;
}

export async function startFileServers(count = 1): Promise<FileServers> {
  const dir = mkdtempSync(join(tmpdir(), "billingos-customers-"));
  const path = join(dir, "billingos.sqlite");
  const instances: ServerInstance[] = [];
  for (let i = 0; i < count; i++) {
    const db = await openDatabase({ path });
    instances.push({ db, ...(await serveDatabase(db)) });
  }
  const testKey = await createApiKey(instances[0]!.db, systemClock, { organizationName: "Acme", environment: "test" });
  return {
    path,
    instances,
    testKey,
    close: async () => {
      for (const instance of instances) {
        await instance.server.close(1_000);
        await instance.db.destroy();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
