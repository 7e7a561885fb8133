import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, dataOf } from "./reliability/support.js";
import { type RunningProcess, runEntry } from "./run-process.js";
import { openSharedTestStores, type SharedTestStores } from "./support/test-store.js";

// SPEC §8: one host uses every core when asked. WORKERS=2 runs two server processes behind one
// port; a worker that dies is replaced; SIGTERM drains them all. On the run's engine: one SQLite file
// shared by the workers, or one PostgreSQL database.

const LISTENING = /"msg":"BillingOS session-token service listening"/g;

/** The pids of `parent`'s child processes (the workers). */
function childrenOf(parent: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(parent)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

function listeningCount(server: RunningProcess): number {
  return server.stdout().match(LISTENING)?.length ?? 0;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("WORKERS=2: two server processes behind one port", () => {
  let database: SharedTestStores;
  let server: RunningProcess;
  let url: string;
  let secretKey: string;

  beforeAll(async () => {
    // An empty, migrated database; the store opened beside it is not used.
    database = await openSharedTestStores(1);
    server = runEntry("src/main.ts", [], {
      PORT: "0",
      HOST: "127.0.0.1",
      WORKERS: "2",
      ...database.databaseEnv,
      CREATE_RATE_LIMIT_PER_MINUTE: "0",
    });
    url = (await server.waitFor(/"url":"(http:\/\/[^"]+)"/, 60_000))[1]!;
    await until(() => listeningCount(server) === 2, "both workers listen");
    secretKey = server.stdout().match(/^\s+(sk_test_[0-9A-Za-z]+)$/m)![1]!;
  }, 90_000);

  afterAll(async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      for (const pid of childrenOf(server.child.pid!)) process.kill(pid, "SIGKILL");
      server.child.kill("SIGKILL");
    }
    await database?.close();
  });

  it("migrates once and prints the development key once, then both workers listen on one port", () => {
    expect(server.stdout().match(/sk_test_[0-9A-Za-z]+/g)).toHaveLength(1);
    const urls = [...server.stdout().matchAll(/"url":"(http:\/\/[^"]+)"/g)].map((match) => match[1]);
    expect(new Set(urls)).toEqual(new Set([url]));
    expect(childrenOf(server.child.pid!)).toHaveLength(2);
  });

  it("serves creations and their verification across both workers", async () => {
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call(url, secretKey, "sessionTokens.create", { externalUserId: `user_${i}` }).then(
          dataOf<{ sessionToken: string }>,
        ),
      ),
    );
    for (const { sessionToken } of created.slice(0, 10)) {
      expect(dataOf(await call(url, secretKey, "sessionTokens.verify", { sessionToken }))).toMatchObject({
        valid: true,
      });
    }
  });

  it("replaces a worker killed with SIGKILL, and serves meanwhile", async () => {
    const [victim, survivor] = childrenOf(server.child.pid!);
    process.kill(victim!, "SIGKILL");
    await until(
      () => server.stdout().includes('"msg":"a worker died; starting another in its place"'),
      "the primary notices",
    );
    expect(dataOf(await call(url, secretKey, "sessionTokens.create", { externalUserId: "meanwhile" }))).toHaveProperty(
      "tokenId",
    );
    await until(() => listeningCount(server) === 3, "the replacement listens");
    const workers = childrenOf(server.child.pid!);
    expect(workers).toHaveLength(2);
    expect(workers).toContain(survivor);
    expect(workers).not.toContain(victim);
  }, 60_000);

  it("SIGTERM drains every worker and exits 0, leaving no process behind", async () => {
    const workers = childrenOf(server.child.pid!);
    server.child.kill("SIGTERM");
    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toContain('"msg":"all workers stopped"');
    expect(server.stdout().match(/"msg":"stopped cleanly"/g)).toHaveLength(2);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});
