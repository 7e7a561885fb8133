import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseToken } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAdminCli } from "../src/admin/admin-cli.js";
import { openDatabase } from "../src/db/database.js";
import { migrations } from "../src/db/migrations/index.js";
import { createSessionToken, verifySessionToken } from "../src/session-tokens/session-tokens.service.js";
import { authenticateSecretKey } from "../src/api-keys/api-keys.service.js";
import { systemClock } from "../src/shared/clock.js";
import { runEntry } from "./run-process.js";

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "billingos-admin-"));
  env = { DATABASE_PATH: join(dir, "admin.sqlite") };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function admin(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdminCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) }, env);
  return { code, out, err, lastLine: out.at(-1) ?? "" };
}

describe("admin CLI", () => {
  it("keys create prints the new key alone on the last line, for the environment asked", async () => {
    const test = await admin("keys", "create", "--org", "Acme", "--env", "test");
    expect(test.code).toBe(0);
    expect(parseToken(test.lastLine, "secretKey")).toEqual({ kind: "secretKey", environment: "test" });
    const live = await admin("keys", "create", "--org", "Acme", "--env", "live");
    expect(parseToken(live.lastLine, "secretKey")).toEqual({ kind: "secretKey", environment: "live" });
  });

  it("keys list shows every key with its organization and state, never the key itself", async () => {
    const created = await admin("keys", "create", "--org", "Acme", "--env", "test");
    const listed = await admin("keys", "list");
    expect(listed.code).toBe(0);
    expect(listed.out).toHaveLength(1);
    expect(listed.out[0]).toMatch(/^key_\w+ {2}Acme {2}test {2}sk_test_….{4} {2}created \S+ {2}active$/);
    expect(listed.out.join("\n")).not.toContain(created.lastLine);
  });

  it("keys revoke refuses the key from then on and revokes the tokens it created", async () => {
    const created = await admin("keys", "create", "--org", "Acme", "--env", "test");
    const other = await admin("keys", "create", "--org", "Acme", "--env", "test");
    const db = await openDatabase({ path: env.DATABASE_PATH! });
    const key = await authenticateSecretKey(db, `Bearer ${created.lastLine}`);
    const token = await createSessionToken({ db, clock: systemClock }, key, { externalUserId: "user_1" });
    await db.destroy();

    const revoked = await admin("keys", "revoke", key.id);
    expect(revoked.code).toBe(0);
    expect(revoked.lastLine).toMatch(new RegExp(`^Revoked ${key.id} at .*; 1 session token\\(s\\) revoked with it\\.$`));

    const after = await openDatabase({ path: env.DATABASE_PATH! });
    await expect(authenticateSecretKey(after, `Bearer ${created.lastLine}`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    const otherKey = await authenticateSecretKey(after, `Bearer ${other.lastLine}`);
    expect(await verifySessionToken({ db: after, clock: systemClock }, otherKey, token.sessionToken)).toEqual({
      valid: false,
      reason: "revoked",
    });
    await after.destroy();
  });

  it("keys revoke of an unknown id fails with a message and exit code 1", async () => {
    const result = await admin("keys", "revoke", "key_nope");
    expect(result.code).toBe(1);
    expect(result.err).toEqual(["No API key key_nope"]);
  });

  it("migrate applies migrations once, then reports the database up to date", async () => {
    expect((await admin("migrate")).lastLine).toBe(`Applied: ${Object.keys(migrations).sort().join(", ")}`);
    expect((await admin("migrate")).lastLine).toBe("Database is up to date.");
  });

  // Operators' mistakes get usage help and a non-zero exit, never a stack trace.
  it.each([
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["keys", "create", "--org", "Acme"], /required option '--env <environment>' not specified/],
    [["keys", "create", "--org", "Acme", "--env", "staging"], /Allowed choices are test, live/],
    [["keys", "create", "--org", "   ", "--env", "test"], /organization name is 1–255 characters/],
    [["keys", "create", "--org", "Acme", "--env", "test", "--bogus"], /unknown option '--bogus'/],
    [["keys", "revoke"], /missing required argument 'id'/],
  ])("refuses %j", async (argv, message) => {
    const result = await admin(...argv);
    expect(result.code).not.toBe(0);
    expect(result.err.join("\n")).toMatch(message);
    expect(result.err.join("\n")).toMatch(/Usage: admin/);
  });
});

describe("admin CLI as a process", () => {
  it("prints the key alone on the last line of stdout", async () => {
    const run = runEntry("src/admin/main.ts", ["keys", "create", "--org", "Acme", "--env", "live"], env as Record<string, string>);
    expect((await run.exited).code).toBe(0);
    const lastLine = run.stdout().trimEnd().split("\n").at(-1)!;
    expect(parseToken(lastLine, "secretKey")?.environment).toBe("live");
  });

  it("exits non-zero with usage on an unknown command", async () => {
    const run = runEntry("src/admin/main.ts", ["nope"], env as Record<string, string>);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toMatch(/unknown command 'nope'/);
  });
});
