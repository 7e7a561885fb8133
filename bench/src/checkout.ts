import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";

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
    throw new Error(`${main} does not exist: build that checkout first (cd ${dir} && CI=true pnpm install --frozen-lockfile && pnpm turbo run build --filter @billingos/server...)`);
  }
  return main;
}
