import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import { checkedIdempotencyKey, requestHash } from "../idempotency/idempotency-key.js";
import { idempotentStore } from "../idempotency/idempotent-store.js";
import type { Context } from "./context.js";

/**
 * What a merchant mutation hands its service. With an Idempotency-Key, the same context on a store
 * that records the work's answer or replays the one recorded (idempotency/idempotent-store.ts);
 * without one, the context itself. Called in the resolver rather than as a middleware: a request
 * without the header (token creation is the hot path) pays one property read, not a tRPC
 * middleware layer (~1.4 µs a call, measured).
 */
export function idempotentDeps<C extends Context & { apiKey: AuthenticatedKey }>(
  ctx: C,
  path: string,
  input: unknown,
): C {
  if (ctx.idempotencyKey === undefined) return ctx;
  const store = idempotentStore(ctx.store, ctx.clock, {
    scope: ctx.apiKey,
    key: checkedIdempotencyKey(ctx.idempotencyKey),
    requestHash: requestHash(path, input),
  });
  return { ...ctx, store };
}
