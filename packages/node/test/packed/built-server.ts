import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** A built server process (what `pnpm start` runs) on a free port, and the test key it made on its empty database. */
export interface BuiltServer {
  url: string;
  secretKey: string;
  stop(): Promise<void>;
}

/**
 * Starts `node apps/server/dist/main.js` over a new SQLite file in `dataDir`. The server migrates it,
 * creates the development organization and prints its test key once (read here from stdout), then
 * logs the URL it listens on.
 */
export async function startBuiltServer(serverRoot: string, dataDir: string): Promise<BuiltServer> {
  const main = join(serverRoot, "dist/main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`pnpm build\` first (pnpm test does)`);
  const child = spawn(process.execPath, [main], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH,
      DATABASE_PATH: join(dataDir, "billingos.sqlite"),
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  try {
    return await new Promise<BuiltServer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start; stdout: ${out}; stderr: ${err}`)), 20_000);
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const url = out.match(/"url":"(http:\/\/[^"]+)"/)?.[1];
        const secretKey = out.match(/^ {2}(sk_test_\S+)$/m)?.[1];
        if (url !== undefined && secretKey !== undefined) {
          clearTimeout(timer);
          resolve({ url, secretKey, stop });
        }
      });
      void exited.then(() => reject(new Error(`server exited; stdout: ${out}; stderr: ${err}`)));
    });
  } catch (error) {
    await stop(); // a server that never said where it listens is not left behind
    throw error;
  }
}
