import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiKey, type Store, openStore, type RunningHttpServer, systemClock } from "@billingos/server";
import type { BillingOS } from "../../src/index.js";
import { type CreatedKey, serveDatabase } from "../server-harness.js";

export type { CreatedKey };

/** One server process's worth of state: its own database handle and its own HTTP server. */
export interface ServerInstance {
  db: Store;
  server: RunningHttpServer;
  client(secretKey: string): BillingOS;
}

/**
 * Real HTTP servers on port 0 over one SQLite FILE in a fresh temp directory, each instance with its
 * own `openStore` handle (as two server processes sharing a database would have). Organization
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
    const db = await openStore({ databasePath: path });
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
        await instance.db.close();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const SERVER_ROOT = fileURLToPath(new URL("../../../../apps/server/", import.meta.url));

/**
 * The server's own entry point (src/main.ts, as `pnpm start` runs it) in a separate process on the
 * same database file: real cross-process contention for SQLite's write lock. Resolves with its URL
 * and a stop function (SIGTERM, resolves once it has exited).
 */
export async function startServerChild(databasePath: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/main.ts"], {
    cwd: SERVER_ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", DATABASE_PATH: databasePath, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  let out = "";
  let err = "";
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server process did not start; stdout: ${out}; stderr: ${err}`)), 20_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const found = out.match(/"url":"(http:\/\/[^"]+)"/)?.[1];
      if (found !== undefined) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    void exited.then(() => reject(new Error(`server process exited; stdout: ${out}; stderr: ${err}`)));
  }).catch(async (error: unknown) => {
    await stop(); // a server that never said where it listens is not left behind
    throw error;
  });
  return { url, stop };
}
