import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createDevelopmentKeyIfEmpty, DEVELOPMENT_ORGANIZATION } from "../../src/api-keys/development-key.js";
import { ManualClock } from "../../src/shared/clock.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import { killAllServers, makeTempDir, queryFile, startServer, type TempDir } from "../reliability/support.js";

// Issue: two servers starting together on an empty database made two development keys. The
// emptiness check and the creation must be one write transaction.

const temps: TempDir[] = [];
function tempFile(): string {
  const temp = makeTempDir("billingos-development-key-");
  temps.push(temp);
  return join(temp.path, "billingos.sqlite");
}

const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((db) => db.close()));
});
afterAll(async () => {
  await killAllServers();
  for (const temp of temps) temp.remove();
});

/** One connection to the file, as a second server process would hold. */
async function connect(path: string): Promise<Store> {
  // Both connections live on this one thread: the loser of the write lock waits on timers (the
  // writer's busy timeout is 0), so the winner's transaction can finish meanwhile.
  const db = await openSqliteStore({ path });
  opened.push(db);
  return db;
}

function keyCount(path: string): { keys: number; organizations: number } {
  const [row] = queryFile<{ keys: number; organizations: number }>(
    path,
    "select (select count(*) from api_keys) as keys, (select count(*) from organizations) as organizations",
  );
  return row!;
}

describe("createDevelopmentKeyIfEmpty", () => {
  it("two connections racing on an empty database: exactly one creates the key, the other gets null", async () => {
    for (let round = 0; round < 5; round++) {
      const path = tempFile();
      const clock = new ManualClock(START_TIME);
      const [a, b] = [await connect(path), await connect(path)];
      const results = await Promise.all([createDevelopmentKeyIfEmpty(a, clock), createDevelopmentKeyIfEmpty(b, clock)]);
      expect(
        results.filter((key) => key !== null),
        `round ${round}: one development key`,
      ).toHaveLength(1);
      expect(results.find((key) => key !== null)!.organizationName).toBe(DEVELOPMENT_ORGANIZATION);
      expect(keyCount(path)).toEqual({ keys: 1, organizations: 1 });
    }
  });

  it("a database that already has an organization gets no development key", async () => {
    const path = tempFile();
    const clock = new ManualClock(START_TIME);
    const db = await connect(path);
    expect(await createDevelopmentKeyIfEmpty(db, clock)).not.toBeNull();
    expect(await createDevelopmentKeyIfEmpty(db, clock)).toBeNull();
    expect(keyCount(path)).toEqual({ keys: 1, organizations: 1 });
  });
});

describe("two server processes starting together on an empty file", () => {
  it("make one development key, and only one of them prints the banner", async () => {
    for (let round = 0; round < 3; round++) {
      const path = tempFile();
      const servers = await Promise.all([startServer(path), startServer(path)]);
      const banners = servers.filter((server) => /Created organization "Development"/.test(server.process.stdout()));
      expect(banners, `round ${round}: one banner`).toHaveLength(1);
      expect(servers.filter((server) => server.developmentKey !== undefined)).toHaveLength(1);
      expect(keyCount(path)).toEqual({ keys: 1, organizations: 1 });
      await Promise.all(servers.map((server) => server.stop()));
    }
  }, 120_000);
});
