import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { builtServer, checkoutLabel, forgetUnknownMigrations, migrationNames } from "../src/checkout.js";
import { REPO_ROOT } from "../src/processes.js";
import { seedDatabase } from "../src/seed.js";

const dir = mkdtempSync(join(tmpdir(), "bench-checkout-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("another checkout", () => {
  it("is named by its commit", () => {
    expect(checkoutLabel(REPO_ROOT)).toMatch(/^[0-9a-f]{7}\+?$/);
    expect(checkoutLabel(dir)).toMatch(/^bench-checkout-/);
  });

  it("must have been built", () => {
    expect(() => builtServer(dir)).toThrow(/build that checkout first/);
  });

  it("lists the migrations its server source has, wherever its migrations folder is", () => {
    const folder = join(dir, "apps/server/src/db/migrations");
    mkdirSync(folder, { recursive: true });
    for (const file of [
      "2026-11-26-0001-initial.ts",
      "2026-12-02-0022-customer-unbinding.ts",
      "index.ts",
      "engine-of.ts",
    ])
      writeFileSync(join(folder, file), "");
    expect(migrationNames(dir)).toEqual(["2026-11-26-0001-initial", "2026-12-02-0022-customer-unbinding"]);
    expect(migrationNames(REPO_ROOT)).toContain("2026-11-26-0001-initial");
  });

  it("gets a database copy that forgets only the migrations it does not have", async () => {
    const seeded = await seedDatabase(join(dir, "copy.sqlite"), { tokens: 1, knownTokens: 0 });
    const mine = migrationNames(REPO_ROOT);
    const older = mine.slice(0, -1);
    expect(forgetUnknownMigrations(seeded.path, older)).toEqual(mine.slice(-1));
    const sqlite = new BetterSqlite3(seeded.path, { readonly: true });
    expect(sqlite.prepare("select name from kysely_migration order by name").pluck().all()).toEqual(older);
    sqlite.close();
    expect(forgetUnknownMigrations(seeded.path, [])).toEqual([]);
  });
});
