import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runAdminCli } from "../src/admin/admin-cli.js";
import { openStore } from "../src/store/open-store.js";
import { StoreOpenError } from "../src/store/store-open-error.js";
import { runEntry } from "./run-process.js";

// A DATABASE_PATH that cannot hold the database stops the server (and the admin CLI) with one line
// naming the path, what is wrong with it and what to do: exit 1, no stack trace.

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "billingos-path-"));
});
afterEach(() => {
  chmodSync(dir, 0o700);
  rmSync(dir, { recursive: true, force: true });
});

async function openError(databasePath: string): Promise<StoreOpenError> {
  const error = await openStore({ databasePath }).then(
    () => new Error("the store opened"),
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(StoreOpenError);
  const message = (error as StoreOpenError).message;
  expect(message).not.toContain("\n");
  return error as StoreOpenError;
}

// Root ignores file permissions: the read-only cases are checked only as another user.
const asRoot = process.getuid?.() === 0;

describe("DATABASE_PATH that cannot hold the database", () => {
  it("a folder", async () => {
    expect((await openError(dir)).message).toBe(
      `Cannot open the SQLite database ${dir}: it is a folder, not a file; set DATABASE_PATH to a file in a folder this user can write (default ./data/billingos.sqlite)`,
    );
  });

  it("a file under a file", async () => {
    writeFileSync(join(dir, "plain"), "");
    expect((await openError(join(dir, "plain", "db.sqlite"))).message).toMatch(
      /: .*\/plain is a file, not a folder; set DATABASE_PATH/,
    );
  });

  it("a file that is not a SQLite database", async () => {
    writeFileSync(join(dir, "notes.txt"), "these are notes, not a database\n".repeat(200));
    expect((await openError(join(dir, "notes.txt"))).message).toMatch(
      /notes\.txt: file is not a database; set DATABASE_PATH/,
    );
  });

  it.skipIf(asRoot)("a read-only folder, and a path under one", async () => {
    const readOnly = join(dir, "read-only");
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    expect((await openError(join(readOnly, "db.sqlite"))).message).toMatch(/the folder .*read-only is not writable/);
    expect((await openError(join(readOnly, "data", "db.sqlite"))).message).toMatch(
      /the folder .*read-only is not writable/,
    );
  });

  it("stops the server with one line on stderr and exit code 1", async () => {
    const server = runEntry("src/main.ts", [], { PORT: "0", HOST: "127.0.0.1", DATABASE_PATH: dir });
    expect((await server.exited).code).toBe(1);
    expect(server.stderr().trim().split("\n")).toEqual([
      expect.stringMatching(/^Cannot open the SQLite database .*: it is a folder, not a file; /),
    ]);
  });

  it("stops the admin CLI with one line and exit code 1", async () => {
    const err: string[] = [];
    const code = await runAdminCli(
      ["keys", "list"],
      { out: () => {}, err: (line) => err.push(line) },
      { DATABASE_PATH: dir },
    );
    expect(code).toBe(1);
    expect(err).toEqual([expect.stringMatching(/^Cannot open the SQLite database .*: it is a folder, not a file; /)]);
  });
});
