import type { Environment } from "@billingos/contracts";
import { expect } from "vitest";
import { createLogger } from "../../src/shared/logger.js";
import { createContextInner, type ServiceDeps } from "../../src/trpc/context.js";
import { appRouter } from "../../src/trpc/router.js";
import { createCallerFactory } from "../../src/trpc/trpc.js";
import { type Harness, type Rejection, rejectionOf } from "../harness.js";

// Helpers for the customer-facing (session.*) tests. They call the real router over the harness's
// real, migrated database: nothing is mocked.

const createCaller = createCallerFactory(appRouter);

/**
 * A caller that sends `Authorization: Bearer <sessionToken>` as a browser would (or no header at
 * all when `sessionToken` is undefined). `environments` overrides the deployment's served
 * environments, e.g. ["test"] for a sandbox.
 */
export function sessionCaller(
  h: Harness,
  sessionToken: string | undefined,
  options: { environments?: readonly Environment[]; deps?: Partial<ServiceDeps> } = {},
) {
  const deps: ServiceDeps = { ...h.deps, ...options.deps };
  if (options.environments !== undefined) deps.environments = options.environments;
  return createCaller(
    createContextInner(deps, { authorization: sessionToken === undefined ? undefined : `Bearer ${sessionToken}` }),
  );
}

/** A caller whose Authorization header is exactly `authorization` (no "Bearer " added). */
export function callerWithAuthorization(h: Harness, authorization: string) {
  return createCaller(createContextInner(h.deps, { authorization }));
}

/** Words that would tell a browser why its token was refused. None may reach it. */
export const REASON_WORDS =
  /expired|revoked|not[_ ]found|malformed|checksum|environment|operation|scope|invalid|reason/i;

/** The call is refused with UNAUTHORIZED, and neither message nor data says why. */
export async function expectBareUnauthorized(call: Promise<unknown>): Promise<Rejection> {
  const rejection = await rejectionOf(call);
  expect(rejection.error.code).toBe("UNAUTHORIZED");
  expect(rejection.data.httpStatus).toBe(401);
  expect(rejection.message).not.toMatch(REASON_WORDS);
  expect(JSON.stringify(rejection.data)).not.toMatch(REASON_WORDS);
  // The TRPCError carries no cause a formatter could leak.
  expect(rejection.error.cause).toBeUndefined();
  return rejection;
}

/** The call is refused with FORBIDDEN, and neither message nor data says which operation was missing. */
export async function expectBareForbidden(call: Promise<unknown>): Promise<Rejection> {
  const rejection = await rejectionOf(call);
  expect(rejection.error.code).toBe("FORBIDDEN");
  expect(rejection.data.httpStatus).toBe(403);
  expect(rejection.message).not.toMatch(REASON_WORDS);
  expect(JSON.stringify(rejection.data)).not.toMatch(/customer:read|session:read|session:revoke/);
  return rejection;
}

/** A logger at info level whose JSON lines are kept in memory, to read what the server logged. */
export function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
