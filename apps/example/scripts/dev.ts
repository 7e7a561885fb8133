// `pnpm dev` for the example app: finds or makes a BillingOS test key for it, then runs `next dev`.
//
// With BILLINGOS_SECRET_KEY set (in the environment or apps/example/.env.local) that key is used as is.
// Otherwise the script waits for the local BillingOS server that `pnpm dev` starts beside it, creates
// a test key for an "Example" organization with the admin CLI on the same database, and keeps it next
// to that database for the next start (checked against the server first; remade if refused).
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { BillingOS, BillingOSError } from "@billingos/node";
import nextEnv from "@next/env";
import { createTestSecretKey, repositoryRoot } from "./admin-cli";

const appDir = fileURLToPath(new URL("..", import.meta.url));
const port = process.env.EXAMPLE_APP_PORT || "3000";
// Where the app listens: where the server beside it does (HOST, this machine only by default).
// next.config.ts lets pages opened at this host (and at localhost and 127.0.0.1) use next dev.
const host = process.env.HOST || "127.0.0.1";
const log = (message: string) => console.log(`[example] ${message}`);

// The same files `next dev` reads (.env, .env.local, .env.development, …), so a key put there counts.
nextEnv.loadEnvConfig(appDir, true, { info: () => {}, error: console.error });

// The server `pnpm dev` starts beside this app listens on PORT (default 4000): PORT alone moves both.
const localServerUrl = `http://localhost:${process.env.PORT || "4000"}`;
const apiUrl = process.env.BILLINGOS_SANDBOX_URL || localServerUrl;
// The server's dev entry (apps/server/src/dev.ts) resolves DATABASE_PATH the same way.
const databasePath = resolveDatabasePath(process.env.DATABASE_PATH || "./data/billingos.sqlite");
const keyFile = `${databasePath}.example-app-key`;

function resolveDatabasePath(path: string): string {
  return path === ":memory:" || isAbsolute(path) ? path : resolve(repositoryRoot, path);
}

async function serverIsUp(): Promise<boolean> {
  try {
    return (await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

async function waitForServer(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  log(`waiting for the BillingOS server at ${apiUrl} …`);
  while (Date.now() < deadline) {
    if (await serverIsUp()) return true;
    await sleep(500);
  }
  return false;
}

/** Does the server accept this key? (A list call: cheap, and it needs a valid secret key.) */
async function serverAccepts(secretKey: string, attempts = 3): Promise<boolean> {
  try {
    await new BillingOS({ secretKey, sandboxUrl: apiUrl }).listSessionTokens({
      externalUserId: "example-app-key-check",
      limit: 1,
    });
    return true;
  } catch (error) {
    if (!(error instanceof BillingOSError)) throw error;
    // `node --watch` restarts the server whenever its sources change; wait for it to come back.
    if (error.code === "CONNECTION_FAILED" && attempts > 1 && (await waitForServer(60_000))) {
      return serverAccepts(secretKey, attempts - 1);
    }
    if (error.code === "UNAUTHORIZED" || error.code === "BAD_REQUEST") return false;
    throw error;
  }
}

async function developmentKey(): Promise<string | undefined> {
  if (databasePath === ":memory:") return undefined;
  if (!(await waitForServer(120_000))) {
    log(
      `no BillingOS server answered at ${apiUrl}; start it (pnpm dev at the repository root) or set BILLINGOS_SECRET_KEY.`,
    );
    return undefined;
  }
  const saved = existsSync(keyFile) ? readFileSync(keyFile, "utf8").trim() : "";
  if (saved && (await serverAccepts(saved))) {
    log(`using the test key kept in ${keyFile}`);
    return saved;
  }
  const created = createTestSecretKey(databasePath);
  if (!(await serverAccepts(created))) {
    log(`created a key in ${databasePath}, but the server at ${apiUrl} refuses it: is it using another DATABASE_PATH?`);
    return undefined;
  }
  writeFileSync(keyFile, `${created}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  log(`created a test key for organization "Example"; kept in ${keyFile}`);
  return created;
}

async function main(): Promise<void> {
  let secretKey = process.env.BILLINGOS_SECRET_KEY;
  if (!secretKey) {
    secretKey = await developmentKey();
    if (!secretKey) log("starting without BILLINGOS_SECRET_KEY: sign-in works, the billing page will not.");
  }

  const next = createRequire(import.meta.url).resolve("next/dist/bin/next");
  const child = spawn(process.execPath, [next, "dev", "--webpack", "--port", port, "--hostname", host], {
    cwd: appDir,
    stdio: "inherit",
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: "1",
      ...(secretKey ? { BILLINGOS_SECRET_KEY: secretKey } : {}),
      BILLINGOS_SANDBOX_URL: apiUrl,
      // The browser calls the same servers as the app's backend unless told otherwise.
      NEXT_PUBLIC_BILLINGOS_SANDBOX_URL: process.env.NEXT_PUBLIC_BILLINGOS_SANDBOX_URL || apiUrl,
      NEXT_PUBLIC_BILLINGOS_PRODUCTION_URL:
        process.env.NEXT_PUBLIC_BILLINGOS_PRODUCTION_URL || process.env.BILLINGOS_PRODUCTION_URL || localServerUrl,
    },
  });
  // Stopping on Ctrl-C (or SIGTERM) is a clean end, not a failure: exit 0 once next has stopped.
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      stopping = true;
      child.kill(signal);
    });
  }
  child.on("exit", (code, signal) => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0))));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
