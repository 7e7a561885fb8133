import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import { checkedIdempotencyKey, requestHash } from "../idempotency/idempotency-key.js";
import { idempotentStore } from "../idempotency/idempotent-store.js";
import type { Store } from "../store/store.js";
import type { Context } from "./context.js";

/**
 * `.use(idempotent)` after a merchant mutation's `.input(…)`: with an Idempotency-Key, the
 * procedure works on a store that records its answer, or replays the one recorded
 * (idempotency/idempotent-store.ts). Without one it passes straight on: one property read.
 */
export function idempotent<R>(opts: {
  ctx: Context & { apiKey: AuthenticatedKey };
  path: string;
  input: unknown;
  next: { (): R; (opts: { ctx: { store: Store } }): R };
}): R {
  const { ctx } = opts;
  if (ctx.idempotencyKey === undefined) return opts.next();
  const store = idempotentStore(ctx.store, ctx.clock, {
    scope: ctx.apiKey,
    key: checkedIdempotencyKey(ctx.idempotencyKey),
    requestHash: requestHash(opts.path, opts.input),
  });
  return opts.next({ ctx: { store } });
}
