import type { Environment, ErrorCode } from "@billingos/contracts";
import { TRPCError } from "@trpc/server";
import fc from "fast-check";
import { sql } from "kysely";
import { expect } from "vitest";
import type { z } from "zod";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import type { Store } from "../../src/store/store.js";
import { createContextInner, type ServiceDeps } from "../../src/trpc/context.js";
import { appRouter } from "../../src/trpc/router.js";
import { createCallerFactory } from "../../src/trpc/trpc.js";
import { createHarness, type Harness } from "../harness.js";
import { testEngine } from "../support/test-store.js";

// Shared by the security suite. Everything runs on real, migrated SQLite databases: nothing here
// mocks or patches storage; it only reads it (row counts, snapshots) to prove what a call left behind.

// ---------------------------------------------------------------------------------------------
// Fuzzing settings: a small fixed-seed set in `pnpm test`, ≥ 10,000 cases with a fresh seed in `pnpm fuzz`.

/** `pnpm fuzz` sets FUZZ_RUNS (vitest.fuzz.config.ts); the normal test run leaves it unset. */
export const FUZZ_LONG = (process.env.FUZZ_RUNS ?? "") !== "";
export const FUZZ_RUNS = FUZZ_LONG ? Number(process.env.FUZZ_RUNS) : 200;
export const FUZZ_SEED = (process.env.FUZZ_SEED ?? "") !== "" ? Number(process.env.FUZZ_SEED) : 42;
/** Per-test timeout for property tests: generous in the long run, which is meant to take minutes. */
// On PostgreSQL each case's store is a database of its own and every statement a round trip: the
// same cases take about three times as long on a busy machine.
export const PROPERTY_TIMEOUT_MS = FUZZ_LONG ? 60 * 60_000 : testEngine === "postgres" ? 180_000 : 60_000;

if (!Number.isInteger(FUZZ_RUNS) || FUZZ_RUNS < 1)
  throw new Error(`FUZZ_RUNS must be a positive integer (got ${process.env.FUZZ_RUNS})`);
if (!Number.isInteger(FUZZ_SEED)) throw new Error(`FUZZ_SEED must be an integer (got ${process.env.FUZZ_SEED})`);

/**
 * Checks a property with the run's settings and fails with fast-check's report (seed, path and
 * shrunk counterexample) if any case breaks it. Returns how many cases ran; in the long run it also
 * prints name, cases, seed and duration so the figures can be quoted.
 */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: fc.IAsyncProperty<Ts>,
  { numRuns = FUZZ_RUNS, shrink = true }: { numRuns?: number; shrink?: boolean } = {},
): Promise<number> {
  const started = performance.now();
  // Without shrinking (endOnFailure), a failure is reported as first found: for cases that each cost a timeout.
  const details = await fc.check(property, { numRuns, seed: FUZZ_SEED, endOnFailure: !shrink });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (FUZZ_LONG || details.failed) {
    console.log(
      `[fuzz] ${name}: ${details.numRuns} cases, seed ${FUZZ_SEED}, ${seconds} s${details.failed ? " — FAILED" : ""}`,
    );
  }
  if (details.failed) throw new Error(`Property "${name}" failed.\n${fc.defaultReportMessage(details)}`);
  expect(details.numRuns).toBe(numRuns);
  return details.numRuns;
}

// ---------------------------------------------------------------------------------------------
// The router's procedures, read from the router itself so that a new procedure is covered at once.

interface ProcedureDef {
  _def: { type: "query" | "mutation" | "subscription"; inputs: unknown[] };
}

// Typed as the nested router record, but at run time a flat map from dotted path to procedure.
const procedures = appRouter._def.procedures as unknown as Record<string, ProcedureDef>;

/** Every procedure path ("sessionTokens.create", …), sorted. */
export const PROCEDURE_PATHS: readonly string[] = Object.keys(procedures).sort();

export function procedureType(path: string): "query" | "mutation" | "subscription" {
  return procedures[path]!._def.type;
}

/** The zod schemas a procedure parses its input with (none for the session.* procedures). */
export function inputSchemasOf(path: string): z.ZodType[] {
  return procedures[path]!._def.inputs as z.ZodType[];
}

/** Whether the procedure's own input schemas accept `input`: the ground truth for "must this be a BAD_REQUEST?". */
export function schemaAccepts(path: string, input: unknown): boolean {
  return inputSchemasOf(path).every((schema) => schema.safeParse(input).success);
}

/** The top-level field names of a procedure's input (from its zod object schema), for targeted mutations. */
export function inputKeysOf(path: string): string[] {
  return inputSchemasOf(path).flatMap((schema) => Object.keys(shapeOf(schema) ?? {}));
}

interface SchemaParts {
  shape?: Record<string, unknown>;
  def?: { out?: unknown; innerType?: unknown };
}

/** The object shape inside an input schema: contracts' inputObject is a pipe (key gate, then the object), maybe optional. */
function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  const parts = schema as SchemaParts;
  if (parts.shape !== undefined) return parts.shape;
  const inner = parts.def?.out ?? parts.def?.innerType;
  return inner === undefined ? undefined : shapeOf(inner);
}

/**
 * Entries keyed by procedure path must cover the router exactly: a procedure added to the router
 * without an entry fails here, naming the table to extend.
 */
export function expectTableCoversRouter(table: Record<string, unknown>, tableName: string): void {
  const missing = PROCEDURE_PATHS.filter((path) => !(path in table));
  const stale = Object.keys(table).filter((path) => !PROCEDURE_PATHS.includes(path));
  expect(
    missing,
    `Procedures without an entry in ${tableName}: ${missing.join(", ")}. Add one (how to call it, what it may answer) so the security suite covers it.`,
  ).toEqual([]);
  expect(stale, `Entries in ${tableName} for procedures the router no longer has: ${stale.join(", ")}`).toEqual([]);
}

const createCaller = createCallerFactory(appRouter);
export type Caller = ReturnType<typeof createCaller>;

/** A caller whose Authorization header is exactly `authorization` (or absent). */
export function callerWith(deps: ServiceDeps, authorization: string | undefined): Caller {
  return createCaller(createContextInner(deps, { authorization }));
}

/** Calls a procedure by its dotted path, with an input the type system knows nothing about. */
export function callByPath(caller: Caller, path: string, input: unknown): Promise<unknown> {
  let target: unknown = caller;
  for (const segment of path.split(".")) target = (target as Record<string, unknown>)[segment];
  return (target as (input: unknown) => Promise<unknown>)(input);
}

/** Awaits a call: its value, or the error it threw (anything thrown, not only TRPCError). */
export async function settle(
  call: () => Promise<unknown>,
): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The error a call was refused with, which must be a TRPCError with one of `codes`. */
export async function expectRefused(call: Promise<unknown>, codes: readonly ErrorCode[]): Promise<TRPCError> {
  let thrown: unknown;
  try {
    const value = await call;
    throw new Error(`Expected a refusal (${codes.join(" or ")}), but the call returned ${JSON.stringify(value)}`);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TRPCError);
  expect(codes).toContain((thrown as TRPCError).code);
  return thrown as TRPCError;
}

// ---------------------------------------------------------------------------------------------
// What a call left in the database.

/** Every table of the database, from the engine's own catalogue (so a table added by a migration is counted too). */
export async function tableNames(db: Store): Promise<string[]> {
  const { rows } =
    db.engine === "sqlite"
      ? await sql<{
          name: string;
        }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(
          db.kysely,
        )
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name collate "C"`.execute(
          db.kysely,
        );
  return rows.map((row) => row.name);
}

/** Row count of every table, in one statement. */
export async function rowCounts(db: Store, tables: readonly string[]): Promise<Record<string, number>> {
  const columns = sql.join(tables.map((table) => sql`(select count(*) from ${sql.table(table)}) as ${sql.ref(table)}`));
  const { rows } = await sql<Record<string, number>>`select ${columns}`.execute(db.kysely);
  return { ...rows[0] };
}

/**
 * What changes with any write. SQLite: rows inserted, updated or deleted on the writer connection
 * since it opened (total_changes(); the service writes through that one connection, so even a
 * write of equal values counts). PostgreSQL, which has no such counter: a digest of every row of
 * every table, so any write that changed a value shows.
 */
export async function writeCounter(db: Store, tables: readonly string[]): Promise<number | string> {
  if (db.engine === "sqlite") {
    const { rows } = await sql<{ n: number }>`select total_changes() as n`.execute(db.kysely);
    return Number(rows[0]!.n);
  }
  const digests = sql.join(
    tables.map(
      (table) =>
        sql`(select coalesce(string_agg(md5(t::text), '' order by md5(t::text)), '') from ${sql.table(table)} t)`,
    ),
    sql` || `,
  );
  const { rows } = await sql<{ digest: string }>`select md5(${digests}) as digest`.execute(db.kysely);
  return rows[0]!.digest;
}

/** Counts and the write counter together: what "stored no row" is checked against. */
export async function writeFootprint(db: Store, tables: readonly string[]) {
  return { counts: await rowCounts(db, tables), changes: await writeCounter(db, tables) };
}

const SCOPED_TABLES = [
  "api_keys",
  "session_tokens",
  "imported_customers",
  "customer_binding_counts",
  "ambiguous_customer_emails",
  "audit_events",
] as const;

/** Every row that belongs to one organization and environment, table by table: to prove nobody else touched them. */
export async function scopeSnapshot(db: Store, scope: { organizationId: string; environment: Environment }) {
  const snapshot: Record<string, unknown[]> = {};
  for (const table of SCOPED_TABLES) {
    const { rows } =
      await sql`select * from ${sql.table(table)} where organization_id = ${scope.organizationId} and environment = ${scope.environment} order by 1`.execute(
        db.kysely,
      );
    snapshot[table] = rows;
  }
  return snapshot;
}

// ---------------------------------------------------------------------------------------------
// Two organizations × two environments.

export const TENANTS = ["A/test", "A/live", "B/test", "B/live"] as const;
export type TenantName = (typeof TENANTS)[number];

export interface Tenants {
  h: Harness;
  keys: Record<TenantName, CreatedApiKey>;
  caller(tenant: TenantName): Caller;
}

/** A fresh in-memory database with Acme ("A") and Globex ("B"), each with a test and a live key. */
export async function createTenants(): Promise<Tenants> {
  const h = await createHarness();
  const globexLive = await createApiKey(h.store, h.clock, { organizationName: "Globex", environment: "live" });
  const keys: Record<TenantName, CreatedApiKey> = {
    "A/test": h.testKey,
    "A/live": h.liveKey,
    "B/test": h.otherOrgKey,
    "B/live": globexLive,
  };
  return { h, keys, caller: (tenant) => h.caller(keys[tenant].secretKey) };
}

// ---------------------------------------------------------------------------------------------
// Credentials and their pieces.

/** Every `length`-character window of `value`: a leak of any of them is a leak. */
export function windowsOf(value: string, length = 16): string[] {
  const windows: string[] = [];
  for (let start = 0; start + length <= value.length; start++) windows.push(value.slice(start, start + length));
  return windows;
}
