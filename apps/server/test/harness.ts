import { createApiKey, type CreatedApiKey } from "../src/api-keys/api-keys.service.js";
import { type Database, openDatabase } from "../src/db/database.js";
import { ManualClock } from "../src/shared/clock.js";
import { createLogger } from "../src/shared/logger.js";
import { createContextInner, type ServiceDeps } from "../src/trpc/context.js";
import { appRouter } from "../src/trpc/router.js";
import { createCallerFactory } from "../src/trpc/trpc.js";

const createCaller = createCallerFactory(appRouter);

export const START_TIME = Date.UTC(2026, 0, 1, 12, 0, 0);

export interface Harness {
  db: Database;
  clock: ManualClock;
  deps: ServiceDeps;
  /** Organization "Acme": a test key and a live key. */
  testKey: CreatedApiKey;
  liveKey: CreatedApiKey;
  /** Organization "Globex": a test key (for isolation checks). */
  otherOrgKey: CreatedApiKey;
  /** A tRPC caller authenticated with `Authorization: Bearer <secretKey>`, or anonymous. */
  caller(secretKey?: string): ReturnType<typeof createCaller>;
  close(): Promise<void>;
}

/** A fresh in-memory database, migrated with the real migrations, with a clock that stands still. */
export async function createHarness(path = ":memory:"): Promise<Harness> {
  const db = await openDatabase({ path });
  const clock = new ManualClock(START_TIME);
  const deps: ServiceDeps = { db, clock, logger: createLogger("silent") };
  const testKey = await createApiKey(db, clock, { organizationName: "Acme", environment: "test" });
  const liveKey = await createApiKey(db, clock, { organizationName: "Acme", environment: "live" });
  const otherOrgKey = await createApiKey(db, clock, { organizationName: "Globex", environment: "test" });
  return {
    db,
    clock,
    deps,
    testKey,
    liveKey,
    otherOrgKey,
    caller: (secretKey) =>
      createCaller(createContextInner(deps, { authorization: secretKey === undefined ? undefined : `Bearer ${secretKey}` })),
    close: () => db.destroy(),
  };
}
