import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import { runEntry } from "../run-process.js";
import {
  call,
  dataOf,
  describeOutcome,
  killAllServers,
  makeTempDir,
  type ServerProcess,
  startServer,
  type TempDir,
} from "./support.js";

/**
 * Item: another process holding SQLite's write lock (the admin CLI, a second server, a backup
 * tool) must not stall this server. A second connection, outside the server, holds BEGIN IMMEDIATE
 * on the same file; meanwhile reads (health, verify) answer at once, and a write either waits for
 * the lock on timers and succeeds, or, past the lock-wait budget, is refused with a typed 503.
 */

/** How long the other connection holds the write lock. */
const HOLD_MS = 3_000;
/** A prompt answer, generously: the machine is shared. Before the fix these took the whole hold. */
const PROMPT_MS = 1_000;

/** Holds the write lock of `path` from a connection of its own until `release()` (or `ms` passes). */
function holdWriteLock(path: string, ms: number): { release(): void; released: Promise<void> } {
  const holder = new BetterSqlite3(path);
  holder.exec("begin immediate");
  // A write, so the lock is the real RESERVED lock of a writer, not only a declared intent.
  holder.exec("create table if not exists lock_holder_scratch (x)");
  holder.exec("insert into lock_holder_scratch values (1)");
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    const timer = setTimeout(() => release(), ms);
    release = () => {
      clearTimeout(timer);
      if (holder.open) {
        holder.exec("rollback");
        holder.close();
      }
      resolve();
    };
  });
  return { release, released };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

describe("the write lock held by another process", () => {
  let temp: TempDir;
  let server: ServerProcess;
  let databasePath: string;
  let secretKey: string;

  beforeAll(async () => {
    temp = makeTempDir("billingos-lock-");
    databasePath = join(temp.path, "lock.sqlite");
    // The real server, in its own process: its event loop is what must not stall.
    server = await startServer(databasePath);
    secretKey = server.developmentKey!;
  }, 90_000);

  afterAll(async () => {
    await killAllServers();
    temp?.remove();
  });

  it("health and verify answer promptly while it is held; a creation waits for it and succeeds", async () => {
    const { sessionToken } = dataOf<{ sessionToken: string }>(
      await call(server.url, secretKey, "sessionTokens.create", { externalUserId: "user_1" }),
    );
    const lock = holdWriteLock(databasePath, HOLD_MS);
    try {
      const heldAt = performance.now();
      // A write that needs the lock: before the fix it waited inside SQLite's busy handler, on the
      // server's event loop, and every other request of the process waited with it.
      const creation = call(server.url, secretKey, "sessionTokens.create", { externalUserId: "user_2" });
      await new Promise((resolve) => setTimeout(resolve, 300));

      const health = await timed(() => fetch(`${server.url}/health`, { signal: AbortSignal.timeout(15_000) }));
      const verify = await timed(() => call(server.url, secretKey, "sessionTokens.verify", { sessionToken }));
      expect(health.value.status).toBe(200);
      expect(dataOf<{ valid: boolean }>(verify.value).valid).toBe(true);
      expect(health.ms, "GET /health while another process holds the write lock").toBeLessThan(PROMPT_MS);
      expect(verify.ms, "verify while another process holds the write lock").toBeLessThan(PROMPT_MS);
      // Still held: the answers above did not come after the release.
      expect(performance.now() - heldAt).toBeLessThan(HOLD_MS);

      const created = await creation;
      expect(created.kind === "response" && created.status, describeOutcome(created)).toBe(200);
      // It waited for the lock rather than slipping past it.
      expect(performance.now() - heldAt).toBeGreaterThanOrEqual(HOLD_MS - 100);
    } finally {
      lock.release();
    }
  }, 30_000);

  it("the admin CLI, a process of its own, waits for the lock on timers and creates its key once it is released", async () => {
    const lock = holdWriteLock(databasePath, HOLD_MS);
    const heldAt = performance.now();
    try {
      const cli = runEntry("src/admin/main.ts", ["keys", "create", "--org", "Late", "--create-org", "--env", "test"], {
        DATABASE_PATH: databasePath,
      });
      const { code } = await cli.exited;
      expect(code, cli.stderr()).toBe(0);
      expect(cli.stdout().trim().split("\n").at(-1)).toMatch(/^sk_test_/);
      // It could only write once the lock was released.
      expect(performance.now() - heldAt).toBeGreaterThanOrEqual(HOLD_MS - 100);
    } finally {
      lock.release();
    }
  }, 30_000);
});

describe.each(["fast", "stock"] as const)("past the lock-wait budget (%s handler)", (handler) => {
  const temp = makeTempDir("billingos-lock-budget-");
  let db: Store;
  let http: RunningHttpServer;

  afterEach(async () => {
    await http?.close(1_000);
    await db?.close();
  });
  afterAll(() => temp.remove());

  it("a write is refused with 503 SERVICE_UNAVAILABLE, Retry-After and retryAfterSeconds, and writes nothing; the next one succeeds", async () => {
    const path = join(temp.path, `budget-${handler}.sqlite`);
    // A short budget, so the test need not outwait the default 5 s.
    db = await openSqliteStore({ path, lockWaitMs: 300 });
    const clock = new ManualClock(START_TIME);
    const key = await createApiKey(db, clock, { organizationName: "Acme", environment: "test" });
    http = await startHttpServer({
      deps: { store: db, clock, logger: createLogger("silent") },
      port: 0,
      host: "127.0.0.1",
      handler,
    });
    const tokens = () => {
      const reader = new BetterSqlite3(path, { readonly: true });
      try {
        return (reader.prepare("select count(*) as n from session_tokens").get() as { n: number }).n;
      } finally {
        reader.close();
      }
    };
    const before = tokens();

    const lock = holdWriteLock(path, 10_000);
    let refused: Response;
    try {
      refused = await fetch(`${http.url}/trpc/sessionTokens.create`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.secretKey}`, "content-type": "application/json" },
        body: JSON.stringify({ externalUserId: "user_1" }),
        signal: AbortSignal.timeout(15_000),
      });
    } finally {
      lock.release();
    }
    const body = (await refused.json()) as { error: { message: string; data: Record<string, unknown> } };
    // Refused: the lock stayed busy past the budget. A typed 503, not a 500 and not a hang.
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(body.error.data).toMatchObject({ code: "SERVICE_UNAVAILABLE", httpStatus: 503, retryAfterSeconds: 1 });
    expect(body.error.message).toMatch(/database is busy.*retry in 1 s/);
    expect(tokens()).toBe(before);

    const retried = await fetch(`${http.url}/trpc/sessionTokens.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${key.secretKey}`, "content-type": "application/json" },
      body: JSON.stringify({ externalUserId: "user_1" }),
    });
    expect(retried.status).toBe(200);
    expect(tokens()).toBe(before + 1);
  }, 30_000);
});
