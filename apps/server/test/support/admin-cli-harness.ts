import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { runAdminCli } from "../../src/admin/admin-cli.js";

export interface AdminRun {
  code: number;
  out: string[];
  err: string[];
  /** The last line of standard output (where `keys create` prints the key). */
  lastLine: string;
}

/**
 * The admin CLI run in process, each test on a SQLite file of its own in a new temporary folder
 * (removed after): `admin(...argv)` runs one command and says what it printed and its exit code.
 */
export function adminCliOnFreshDatabase(prefix: string): {
  admin: (...argv: string[]) => Promise<AdminRun>;
  databasePath: () => string;
} {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    env = { DATABASE_PATH: join(dir, "admin.sqlite") };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return {
    admin: async (...argv) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runAdminCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line) }, env);
      return { code, out, err, lastLine: out.at(-1) ?? "" };
    },
    databasePath: () => env.DATABASE_PATH!,
  };
}
