import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import { createHarness, type Harness } from "../harness.js";
import { send } from "../security/http-client.js";

// Issue item 3: /health ran `select 1` on the writer connection, so it queued behind any write
// transaction and a live server looked dead. It reads from the reader connection now.

let dir: string;
let h: Harness;
let server: RunningHttpServer;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "billingos-health-"));
  h = await createHarness(await openSqliteStore({ path: join(dir, "db.sqlite") }));
  server = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1" });
});
afterEach(async () => {
  await server.close(500);
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

it("GET /health answers 200 while a write transaction holds the writer connection", async () => {
  let finish!: () => void;
  const held = new Promise<void>((resolve) => (finish = resolve));
  let started!: () => void;
  const inTransaction = new Promise<void>((resolve) => (started = resolve));
  const transaction = h.store.kysely.transaction().execute(async (trx) => {
    await sql`insert into organizations (id, name, created_at) values ('org_health', 'Health', 0)`.execute(trx);
    started();
    await held;
  });
  await inTransaction;
  try {
    // Answered within the client's answer timeout (3 s), not after the transaction.
    const answer = await send(server.port, { path: "/health", reuseConnection: false });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ status: "ok", engine: "sqlite" });
  } finally {
    finish();
    await transaction;
  }
});
