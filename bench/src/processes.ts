import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  /** Every line the process printed to stdout as JSON (the first carries the URL). */
  firstLine: Record<string, unknown>;
  stop(): Promise<void>;
}

/**
 * Starts a server in its own process (so the load generator does not share its event loop) and
 * waits for the JSON line that names its URL: `{"url": …}` or a pino line with "url".
 */
export function startServerProcess(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  // A DATABASE_URL the bench itself was given names where PostgreSQL is, not where a server must
  // store: a server runs on PostgreSQL only when its own env says so.
  const { DATABASE_URL: _url, DATABASE_POOL_SIZE: _pool, ...inherited } = process.env;
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...inherited, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 60_000);
    child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
    let started = false;
    child.stdout!.on("data", (chunk: Buffer) => {
      // Once started, the server's log lines (one per request) are drained and dropped: kept, they
      // would grow without bound and be split again at every chunk.
      if (started) return;
      buffer += chunk.toString();
      for (const line of buffer.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (typeof parsed.url === "string") {
            started = true;
            buffer = "";
            clearTimeout(timer);
            resolve({
              url: parsed.url.replace("localhost", "127.0.0.1"),
              pid: child.pid!,
              firstLine: parsed,
              stop: () =>
                new Promise((done) => {
                  child.once("exit", () => done());
                  child.kill("SIGTERM");
                }),
            });
            return;
          }
        } catch {
          // a partial line: wait for the rest
        }
      }
    });
  });
}
