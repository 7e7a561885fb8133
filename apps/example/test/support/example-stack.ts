import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestSecretKey, repositoryRoot } from "../../scripts/admin-cli";
import { type Started, start } from "./child-process";
import { freePort } from "./free-port";

export const appDir = fileURLToPath(new URL("../..", import.meta.url));
export const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
/** Test builds go here, one folder per run, so `pnpm build`'s .next and other runs are left alone. */
const TEST_BUILDS = ".next-test";

export interface Scratch {
  /** A temporary folder for the database. */
  dataDir: string;
  /** The app's build folder (EXAMPLE_NEXT_DIST_DIR), relative to the app. */
  distDir: string;
  /** Removes both, and puts back the next-env.d.ts that `next build` and `next dev` rewrite. */
  remove(): void;
}

/**
 * Folders of this run's own: test builds go under .next-test, one folder per run, so the .next of
 * `pnpm build` or of a developer's `pnpm dev`, and other runs, are left alone.
 */
export function makeScratch(): Scratch {
  const dataDir = mkdtempSync(join(tmpdir(), "billingos-example-"));
  const distDir = join(TEST_BUILDS, `${process.pid}-${Date.now()}`);
  const nextEnvFile = join(appDir, "next-env.d.ts");
  const nextEnvBefore = existsSync(nextEnvFile) ? readFileSync(nextEnvFile, "utf8") : null;
  return {
    dataDir,
    distDir,
    remove() {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(join(appDir, distDir), { recursive: true, force: true });
      try {
        rmdirSync(join(appDir, TEST_BUILDS)); // only if no other run is using it
      } catch {
        // Not empty, or already gone.
      }
      if (nextEnvBefore === null) rmSync(nextEnvFile, { force: true });
      else writeFileSync(nextEnvFile, nextEnvBefore);
    },
  };
}

/** Seconds each session token lives in the test (the route reuses one for the first half). */
export const SESSION_EXPIRES_IN = 75;

export interface ExampleStack {
  /** The BillingOS server, e.g. http://127.0.0.1:41234 */
  serverUrl: string;
  /** The example app, e.g. http://127.0.0.1:41235 */
  appUrl: string;
  secretKey: string;
  /** What the app's server (`next start`, or `next dev` and its dev script) has printed so far. */
  appOutput(): string;
  stop(): Promise<void>;
}

export interface BuiltExampleStack extends ExampleStack {
  /** Seconds spent in `next build`. */
  buildSeconds: number;
  /** Stops the BillingOS server alone (SIGTERM), leaving the app running without it. */
  stopServer(): Promise<void>;
}

/**
 * The real thing, on free ports: the BillingOS server from source on a temporary database, a test key
 * from the admin CLI, and the example app built with `next build` and served with `next start`.
 */
export async function startExampleStack(): Promise<BuiltExampleStack> {
  const started: Started[] = [];
  const scratch = makeScratch();
  const { dataDir, distDir } = scratch;
  const stop = async () => {
    await Promise.all(started.reverse().map((child) => child.stop()));
    scratch.remove();
  };

  try {
    const appPort = await freePort();
    const appUrl = `http://127.0.0.1:${appPort}`;
    const databasePath = join(dataDir, "billingos.sqlite");

    const server = start(process.execPath, ["--conditions=source", "--import", "tsx", "apps/server/src/main.ts"], {
      cwd: repositoryRoot,
      env: {
        ...process.env,
        PORT: "0",
        HOST: "127.0.0.1",
        DATABASE_PATH: databasePath,
        CORS_ORIGINS: appUrl,
        LOG_LEVEL: "info",
      },
    });
    started.push(server);
    const [, serverUrl] = await server.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 60_000);

    const secretKey = createTestSecretKey(databasePath);

    const appEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      EXAMPLE_NEXT_DIST_DIR: distDir,
      EXAMPLE_SKIP_BUILD_TYPECHECK: "1",
      BILLINGOS_SECRET_KEY: secretKey,
      BILLINGOS_SANDBOX_URL: serverUrl,
      BILLINGOS_PRODUCTION_URL: serverUrl,
      NEXT_PUBLIC_BILLINGOS_SANDBOX_URL: serverUrl,
      NEXT_PUBLIC_BILLINGOS_PRODUCTION_URL: serverUrl,
      // Short-lived tokens, so that the test sees @billingos/react fetch the next one before expiry.
      BILLINGOS_SESSION_EXPIRES_IN: String(SESSION_EXPIRES_IN),
      AUTH_SECRET: `test-${Math.random().toString(36).slice(2)}${Date.now()}`,
    };

    const buildStarted = performance.now();
    const build = start(process.execPath, [nextBin, "build", "--webpack"], { cwd: appDir, env: appEnv });
    started.push(build);
    const buildCode = await build.finished(300_000);
    if (buildCode !== 0) throw new Error(`next build failed (exit ${buildCode}):\n${build.output().slice(-6_000)}`);
    const buildSeconds = (performance.now() - buildStarted) / 1000;

    const app = start(process.execPath, [nextBin, "start", "--port", String(appPort), "--hostname", "127.0.0.1"], {
      cwd: appDir,
      env: appEnv,
    });
    started.push(app);
    await app.waitFor(/Ready in/, 60_000);

    return {
      serverUrl: serverUrl!,
      appUrl,
      secretKey,
      appOutput: app.output,
      buildSeconds,
      stopServer: () => server.stop(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
