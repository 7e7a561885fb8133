import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import BetterSqlite3 from "better-sqlite3";

/** A checkout's short name: its commit (with `+` when its tree has changes), else its folder's name. */
export function checkoutLabel(dir: string): string {
  const commit = spawnSync("git", ["-C", dir, "rev-parse", "--short=7", "HEAD"], { encoding: "utf8" });
  if (commit.status !== 0) return basename(resolve(dir));
  const dirty = spawnSync("git", ["-C", dir, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" });
  return `${commit.stdout.trim()}${dirty.stdout.trim() ? "+" : ""}`;
}

/** The built server of the checkout at `dir`; throws, saying how to build it, when there is none. */
export function builtServer(dir: string): string {
  const main = join(resolve(dir), "apps/server/dist/main.js");
  if (!existsSync(main)) {
    throw new Error(
      `${main} does not exist: build that checkout first (cd ${dir} && CI=true pnpm install --frozen-lockfile && pnpm turbo run build --filter @billingos/server...)`,
    );
  }
  return main;
}

const MIGRATION_FILE = /^(\d{4}-\d{2}-\d{2}-\d{4}-[a-z0-9-]+)\.ts$/;

/** The names of the migrations a checkout's server source holds (its `…/migrations/YYYY-MM-DD-NNNN-name.ts` files). */
export function migrationNames(dir: string): string[] {
  const names: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(folder, entry.name));
      else if (basename(folder) === "migrations") {
        const match = MIGRATION_FILE.exec(entry.name);
        if (match) names.push(match[1]!);
      }
    }
  };
  walk(join(resolve(dir), "apps/server/src"));
  return names.sort();
}

/**
 * Makes a copy of the seeded database openable by an older checkout: Kysely refuses a database
 * that records a migration its code does not have, so the copy forgets those the other checkout
 * lacks. Only sound for migrations that change nothing on SQLite (the engine-specific ones): the
 * caller prints the names forgotten. Returns them.
 */
export function forgetUnknownMigrations(sqlitePath: string, known: string[]): string[] {
  if (known.length === 0) return [];
  const sqlite = new BetterSqlite3(sqlitePath);
  try {
    const recorded = sqlite.prepare("select name from kysely_migration order by name").pluck().all() as string[];
    const unknown = recorded.filter((name) => !known.includes(name));
    const forget = sqlite.prepare("delete from kysely_migration where name = ?");
    sqlite.transaction(() => {
      for (const name of unknown) forget.run(name);
    })();
    return unknown;
  } finally {
    sqlite.close();
  }
}
