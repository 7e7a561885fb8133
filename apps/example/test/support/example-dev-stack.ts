import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repositoryRoot } from "../../scripts/admin-cli";
import { type Started, start } from "./child-process";
import { appDir, type ExampleStack, makeScratch } from "./example-stack";
import { freePort } from "./free-port";

/** Variables a developer's shell may hold that would steer `pnpm dev` away from what it does by default. */
const DEVELOPER_SETTINGS = [
  "NODE_ENV", // vitest sets "test"; `next dev` wants it unset
  "CORS_ORIGINS",
  "BILLINGOS_SECRET_KEY",
  "BILLINGOS_SANDBOX_URL",
  "BILLINGOS_PRODUCTION_URL",
  "NEXT_PUBLIC_BILLINGOS_SANDBOX_URL",
  "NEXT_PUBLIC_BILLINGOS_PRODUCTION_URL",
  "BILLINGOS_SESSION_EXPIRES_IN",
];

/**
 * What `pnpm dev` runs, on free ports: the server's dev entry (apps/server/src/dev.ts: the CORS
 * origins come from EXAMPLE_APP_PORT) on a temporary database, and the example's dev script
 * (scripts/dev.ts), which makes its own key with the admin CLI and runs `next dev` on HOST.
 * Without node --watch and turbo, which only restart and relay these two.
 */
export async function startExampleDevStack(): Promise<ExampleStack> {
  const started: Started[] = [];
  const scratch = makeScratch();
  const stop = async () => {
    await Promise.all(started.reverse().map((child) => child.stop(10_000)));
    scratch.remove();
  };

  try {
    const [serverPort, appPort] = [await freePort(), await freePort()];
    const databasePath = join(scratch.dataDir, "billingos.sqlite");
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of DEVELOPER_SETTINGS) delete env[name];
    Object.assign(env, {
      PORT: String(serverPort),
      HOST: "127.0.0.1",
      EXAMPLE_APP_PORT: String(appPort),
      DATABASE_PATH: databasePath,
      LOG_FORMAT: "json",
      NEXT_TELEMETRY_DISABLED: "1",
      EXAMPLE_NEXT_DIST_DIR: scratch.distDir,
      AUTH_SECRET: `test-${Math.random().toString(36).slice(2)}${Date.now()}`,
    });

    const server = start(process.execPath, ["--conditions=source", "--import", "tsx", "apps/server/src/dev.ts"], {
      cwd: repositoryRoot,
      env,
    });
    started.push(server);
    const [, serverUrl] = await server.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 60_000);

    const app = start(process.execPath, ["--conditions=source", "--import", "tsx", "scripts/dev.ts"], {
      cwd: appDir,
      env,
    });
    started.push(app);
    await app.waitFor(/Ready in/, 120_000);
    // The dev script keeps the key it made beside the database.
    const secretKey = readFileSync(`${databasePath}.example-app-key`, "utf8").trim();

    return { serverUrl: serverUrl!, appUrl: `http://127.0.0.1:${appPort}`, secretKey, appOutput: app.output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
