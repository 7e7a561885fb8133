import { createHash } from "node:crypto";
import {
  type AuthenticatedKey,
  createSessionToken,
  openStore,
  type Store,
  systemClock,
  verifySessionToken,
} from "@billingos/server";
import BetterSqlite3 from "better-sqlite3";
import { sideBySide } from "../in-process.js";
import type { Row } from "../report.js";
import type { SeededDatabase } from "../seed.js";

export interface InProcessSettings {
  rounds: number;
  milliseconds: number;
}

function verifier(db: Store, seeded: SeededDatabase) {
  const key = seeded.key satisfies AuthenticatedKey;
  let next = 0;
  const tokens = seeded.validTokens;
  return async () => {
    const result = await verifySessionToken({ store: db, clock: systemClock }, key, tokens[next++ % tokens.length]!);
    if (!result.valid) throw new Error(`bench token did not verify: ${result.reason}`);
  };
}

/** The floor: a cached better-sqlite3 statement and the same SHA-256, no service around it. */
function rawVerifier(path: string, seeded: SeededDatabase) {
  const sqlite = new BetterSqlite3(path, { readonly: true });
  // The service's page cache (64 MiB, store/sqlite), not SQLite's default 2 MB, so that floor and
  // service read a million-row index through caches of the same size.
  sqlite.pragma("cache_size = -65536");
  const select = sqlite.prepare(
    `select id, token_hash, organization_id, environment, external_user_id, external_organization_id, email,
       allowed_operations, metadata, expires_at, revoked_at from session_tokens where token_hash = ?`,
  );
  let next = 0;
  const tokens = seeded.validTokens;
  return {
    close: () => sqlite.close(),
    verify: () => {
      const token = tokens[next++ % tokens.length]!;
      const row = select.get(createHash("sha256").update(token).digest("hex"));
      if (row === undefined) throw new Error("bench token not found");
    },
  };
}

export async function inProcessVerify(large: SeededDatabase, settings: InProcessSettings): Promise<Row[]> {
  const db = await openStore({ databasePath: large.path });
  const raw = rawVerifier(large.path, large);
  const { a: service, b: floor } = await sideBySide(verifier(db, large), raw.verify, settings);
  raw.close();
  await db.close();
  return [
    {
      scenario: `in process: raw baseline (prepared statement + SHA-256), ${large.validTokens.length ? "large" : ""} DB`,
      throughput: floor,
      unit: "calls/s",
    },
    {
      scenario: "in process: verify through the service",
      throughput: service,
      unit: "calls/s",
      baseline: "raw baseline",
      ratio: service / floor,
      target: "≥ 60%",
    },
  ];
}

export async function scaleVerify(
  small: SeededDatabase,
  large: SeededDatabase,
  settings: InProcessSettings,
  sizes: [number, number],
): Promise<Row[]> {
  const smallDb = await openStore({ databasePath: small.path });
  const largeDb = await openStore({ databasePath: large.path });
  const { a: atSmall, b: atLarge } = await sideBySide(verifier(smallDb, small), verifier(largeDb, large), settings);
  await smallDb.close();
  await largeDb.close();
  return [
    { scenario: `scale: verify with ${sizes[0].toLocaleString("en-US")} tokens`, throughput: atSmall, unit: "calls/s" },
    {
      scenario: `scale: verify with ${sizes[1].toLocaleString("en-US")} tokens`,
      throughput: atLarge,
      unit: "calls/s",
      baseline: `${sizes[0].toLocaleString("en-US")} tokens`,
      ratio: atLarge / atSmall,
      target: "≥ 80%",
    },
  ];
}

export async function scaleCreate(
  none: SeededDatabase,
  many: SeededDatabase,
  settings: InProcessSettings,
  customers: number,
): Promise<Row[]> {
  const noneDb = await openStore({ databasePath: none.path });
  const manyDb = await openStore({ databasePath: many.path });
  const creator = (db: Store, seeded: SeededDatabase) => () =>
    createSessionToken({ store: db, clock: systemClock }, seeded.key, {
      externalUserId: "user_bench",
      email: "nobody@bench.example",
    });
  const { a: withNone, b: withMany } = await sideBySide(creator(noneDb, none), creator(manyDb, many), settings);
  await noneDb.close();
  await manyDb.close();
  return [
    { scenario: "scale: create with 0 imported customers", throughput: withNone, unit: "calls/s" },
    {
      scenario: `scale: create with ${customers.toLocaleString("en-US")} imported customers`,
      throughput: withMany,
      unit: "calls/s",
      baseline: "0 customers",
      ratio: withMany / withNone,
      target: "≥ 80%",
    },
  ];
}
