import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runEntry } from "./run-process.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "billingos-process-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the server process (src/main.ts)", () => {
  it("refuses a bad PORT with one line on stderr and exit code 1, without a stack trace", async () => {
    const server = runEntry("src/main.ts", [], { PORT: "eighty", DATABASE_PATH: join(dir, "db.sqlite") });
    const { code } = await server.exited;
    expect(code).toBe(1);
    const lines = server.stderr().trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(/^Invalid configuration: PORT must be a whole number from 0 to 65535 \(got "eighty"\)$/),
    ]);
  });

  it("listens on loopback only unless HOST says otherwise, and says so at start", async () => {
    const server = runEntry("src/main.ts", [], { PORT: "0", HOST: "", DATABASE_PATH: join(dir, "db.sqlite") });
    const [, url] = await server.waitFor(/"url":"(http:\/\/[^"]+)"/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await server.waitFor(/listening on 127\.0\.0\.1 only: other machines cannot connect; set HOST=0\.0\.0\.0/);
    server.child.kill("SIGTERM");
    expect((await server.exited).code).toBe(0);
  });

  it("refuses a bad RATE_LIMIT_URL with one line on stderr and exit code 1, without echoing the URL", async () => {
    const server = runEntry("src/main.ts", [], {
      RATE_LIMIT_URL: "http://user:hunter2@cache:6379",
      DATABASE_PATH: join(dir, "db.sqlite"),
    });
    const { code } = await server.exited;
    expect(code).toBe(1);
    const lines = server.stderr().trim().split("\n");
    expect(lines).toEqual([
      expect.stringMatching(
        /^Invalid configuration: RATE_LIMIT_URL must be a Redis URL such as redis:\/\/host:6379 or rediss:\/\/user:password@host:6380\/0$/,
      ),
    ]);
  });

  it("creates the database and a development test key on first start, serves, and drains on SIGTERM", async () => {
    const databasePath = join(dir, "nested", "billingos.sqlite");
    const server = runEntry("src/main.ts", [], { PORT: "0", HOST: "127.0.0.1", DATABASE_PATH: databasePath });
    const [, url] = await server.waitFor(/"url":"(http:\/\/[^"]+)"/);
    const key = server.stdout().match(/^\s+(sk_test_[0-9A-Za-z]+)$/m)?.[1];
    expect(key).toBeDefined();
    expect(server.stdout()).toMatch(/Created organization "Development" with a test secret key/);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    const created = await fetch(`${url}/trpc/sessionTokens.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ externalUserId: "user_1" }),
    });
    expect(created.status).toBe(200);
    const { result } = (await created.json()) as { result: { data: { tokenId: string } } };

    server.child.kill("SIGTERM");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toMatch(/stopped cleanly/);
    // A clean close checkpoints the WAL into the main file and removes it.
    expect(existsSync(`${databasePath}-wal`) ? statSync(`${databasePath}-wal`).size : 0).toBe(0);
    const sqlite = new BetterSqlite3(databasePath, { readonly: true });
    const row = sqlite.prepare("select id from session_tokens where id = ?").get(result.data.tokenId);
    sqlite.close();
    expect(row).toEqual({ id: result.data.tokenId });

    // Second start on the same database: no new key is printed.
    const again = runEntry("src/main.ts", [], { PORT: "0", HOST: "127.0.0.1", DATABASE_PATH: databasePath });
    await again.waitFor(/"url":"/);
    again.child.kill("SIGTERM");
    await again.exited;
    expect(again.stdout()).not.toMatch(/sk_test_/);
  });
});
