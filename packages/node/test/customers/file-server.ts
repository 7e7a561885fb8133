import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createApiKey, type RunningHttpServer, type Store, systemClock } from "@billingos/server";
import { openSharedTestStores } from "@billingos/server/testing";
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
 * Real HTTP servers on port 0 over one database of the run's engine (a SQLite file in a fresh temp
 * directory, or a PostgreSQL database of its own), each instance with its own store (as two server
 * processes sharing a database would have). Organization "Acme" has a test key, created through the
 * first instance.
 */
export interface FileServers {
  /** DATABASE_PATH or DATABASE_URL naming that database, for a server process (startServerChild). */
  databaseEnv: Record<string, string>;
  instances: ServerInstance[];
  testKey: CreatedKey;
  close(): Promise<void>;
}

export async function startFileServers(count = 1): Promise<FileServers> {
  const shared = await openSharedTestStores(count);
  const instances: ServerInstance[] = [];
  for (const db of shared.stores) instances.push({ db, ...(await serveDatabase(db)) });
  const testKey = await createApiKey(instances[0]!.db, systemClock, { organizationName: "Acme", environment: "test" });
  return {
    databaseEnv: shared.databaseEnv,
    instances,
    testKey,
    close: async () => {
      for (const instance of instances) await instance.server.close(1_000);
      await shared.close();
    },
  };
}

/** The environment without any database setting of its own: the child gets exactly `databaseEnv`. */
function withoutDatabase(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { DATABASE_URL: _url, DATABASE_PATH: _path, ...rest } = env;
  return rest;
}

const SERVER_ROOT = fileURLToPath(new URL("../../../../apps/server/", import.meta.url));

/**
 * The server's own entry point (src/main.ts, as `pnpm start` runs it) in a separate process on the
 * same database file: real cross-process contention for SQLite's write lock. Resolves with its URL
 * and a stop function (SIGTERM, resolves once it has exited).
 */
export async function startServerChild(
  databaseEnv: Record<string, string>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "src/main.ts"], {
    cwd: SERVER_ROOT,
    env: { ...withoutDatabase(process.env), PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...databaseEnv },
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
    const timer = setTimeout(
      () => reject(new Error(`server process did not start; stdout: ${out}; stderr: ${err}`)),
      20_000,
    );
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
