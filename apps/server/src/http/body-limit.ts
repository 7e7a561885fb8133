import { takesNoInput } from "@billingos/contracts";
import type { AnyTRPCRouter } from "@trpc/server";

/**
 * The largest body a procedure that takes no input is sent: tRPC's clients send nothing or `{}`
 * (a batch: `{"0":…}` per call) for one. Without this, a caller holding only a session token may
 * have 1 MiB bodies buffered for `session.signOut`, whose input is never read.
 */
export const NO_INPUT_BODY_BYTES = 1024;

/**
 * The body limit of a request is the limit of what its procedures can take: the sum over its calls
 * of MAX_BODY_BYTES for a procedure with an input parser, NO_INPUT_BODY_BYTES for one without (or
 * whose only parser takes no input),
 * capped at MAX_BODY_BYTES.
 */
export function createBodyLimit(router: AnyTRPCRouter, maxBodyBytes: number): (paths: readonly string[]) => number {
  const procedures = router._def.procedures as Record<string, { _def: { inputs?: readonly unknown[] } } | undefined>;
  const limitOf = (path: string): number => {
    const procedure = Object.hasOwn(procedures, path) ? procedures[path] : undefined;
    // No input parser, or only the contracts' "takes no input" one (the session.* procedures).
    return procedure !== undefined && (procedure._def.inputs ?? []).every(takesNoInput)
      ? NO_INPUT_BODY_BYTES
      : maxBodyBytes;
  };
  return (paths) => {
    let limit = 0;
    for (const path of paths) {
      limit += limitOf(path);
      if (limit >= maxBodyBytes) return maxBodyBytes;
    }
    return limit;
  };
}
