import { CHECKSUM_LENGTH, type ErrorData, errorData, SECRET_BODY_LENGTH } from "@billingos/contracts";
import { getErrorShape, TRPCError } from "@trpc/server";
import { type CreatedApiKey, createApiKey } from "../src/api-keys/api-keys.service.js";
import { ManualClock } from "../src/shared/clock.js";
import { createLogger } from "../src/shared/logger.js";
import type { Queryable } from "../src/store/queryable.js";
import type { Store } from "../src/store/store.js";
import { createContextInner, type ServiceDeps } from "../src/trpc/context.js";
import { appRouter } from "../src/trpc/router.js";
import { createCallerFactory } from "../src/trpc/trpc.js";
import { openTestStore } from "./support/test-store.js";

const createCaller = createCallerFactory(appRouter);

export const START_TIME = Date.UTC(2026, 0, 1, 12, 0, 0);

export interface Harness {
  store: Store;
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

/**
 * A fresh database on the run's engine (support/test-store.ts), migrated with the real migrations,
 * with a clock that stands still.
 */
export async function createHarness(opened?: Store): Promise<Harness> {
  const store = opened ?? (await openTestStore());
  const clock = new ManualClock(START_TIME);
  const deps: ServiceDeps = { store, clock, logger: createLogger("silent") };
  const testKey = await createApiKey(store, clock, { organizationName: "Acme", environment: "test" });
  const liveKey = await createApiKey(store, clock, { organizationName: "Acme", environment: "live" });
  const otherOrgKey = await createApiKey(store, clock, { organizationName: "Globex", environment: "test" });
  return {
    store,
    clock,
    deps,
    testKey,
    liveKey,
    otherOrgKey,
    caller: (secretKey) =>
      createCaller(
        createContextInner(deps, { authorization: secretKey === undefined ? undefined : `Bearer ${secretKey}` }),
      ),
    close: () => store.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers added for the route tests. They only read: the database is never mocked or patched.

/** A rejected call: the TRPCError createCaller threw, and the shape the error formatter gives a client. */
export interface Rejection {
  error: TRPCError;
  /** The formatted message a client would read (zod issues turned into one line naming the fields). */
  message: string;
  /** The formatted `data`, checked against the contracts' own schema: code, httpStatus, fieldErrors… */
  data: ErrorData;
}

/**
 * Awaits a call that must fail with a TRPCError and formats the error exactly as the HTTP adapter
 * would (root error formatter), so tests can assert on the field errors a client gets.
 */
export async function rejectionOf(call: Promise<unknown>): Promise<Rejection> {
  let thrown: unknown;
  try {
    const value = await call;
    throw new Error(`Expected the call to be rejected, but it returned ${JSON.stringify(value)}`);
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof TRPCError)) throw thrown;
  const shape = getErrorShape({
    config: appRouter._def._config,
    error: thrown,
    type: "unknown",
    path: undefined,
    input: undefined,
    ctx: undefined,
  });
  return { error: thrown, message: shape.message, data: errorData.parse(shape.data) };
}

/** How many session-token rows exist, across every organization and environment. */
export async function countSessionTokens(db: Queryable): Promise<number> {
  const row = await db.kysely
    .selectFrom("session_tokens")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The random body of a token or key: what lies between its prefix and its checksum. */
export function secretBodyOf(token: string): string {
  const end = token.length - CHECKSUM_LENGTH;
  return token.slice(end - SECRET_BODY_LENGTH, end);
}

/** The token with the character at `index` replaced by a different base62 character. */
export function withCharChanged(token: string, index: number): string {
  const current = token[index];
  const replacement = current === "A" ? "B" : "A";
  return token.slice(0, index) + replacement + token.slice(index + 1);
}
