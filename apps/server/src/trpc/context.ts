import { ENVIRONMENTS, type Environment } from "@billingos/contracts";
import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import type { AccessRecord } from "../http/access-log.js";
import type { RateLimiter } from "../rate-limits/rate-limiter.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Store } from "../store/store.js";

/** What every procedure can reach. Passed in, never imported, so each test brings its own. */
export interface ServiceDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The environments this deployment serves (a sandbox serves only "test"). Default: both. */
  environments?: readonly Environment[];
  /** Limits token creation per secret key; absent means unlimited. */
  createRateLimiter?: RateLimiter;
  /** Lazy binding uses only emails sent with `emailVerified: true`. Default: false. */
  lazyBindingRequiresVerifiedEmail?: boolean;
  /** Limits imported customers (rows) per secret key; absent means unlimited. */
  importRateLimiter?: RateLimiter;
  /** Limits the other merchant writes (revoke, revokeForCustomer, bind, unbind) per secret key, one bucket for all; absent means unlimited. */
  writeRateLimiter?: RateLimiter;
}

/** Both environments: what a deployment serves unless ENVIRONMENTS says otherwise. */
export const ALL_ENVIRONMENTS = ENVIRONMENTS;

export interface RequestInfo {
  /** The raw Authorization header, if any. */
  authorization?: string | undefined;
  /**
   * The secret key the HTTP layer already authenticated from this same header, before it read the
   * body (http/body-gate.ts): the merchant procedures take it instead of looking it up again.
   */
  authenticatedKey?: AuthenticatedKey | undefined;
  /** The Idempotency-Key header as sent, if any: the merchant mutations replay by it (idempotency/). */
  idempotencyKey?: string | readonly string[] | undefined;
  /** Sets a header on the HTTP response (Retry-After); absent outside HTTP. */
  setResponseHeader?: (name: string, value: string) => void;
  /** The request's access-log record, which the procedure ladder fills with who called; absent outside HTTP. */
  access?: AccessRecord | undefined;
}

/**
 * The context without HTTP: what tests hand to `createCaller`. The HTTP adapter wraps it. Built
 * field by field, once per request: `{ ...deps, more }` is V8's slow path on Node 20 (~2 µs).
 */
export function createContextInner(deps: ServiceDeps, request: RequestInfo = {}) {
  return {
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    createRateLimiter: deps.createRateLimiter,
    importRateLimiter: deps.importRateLimiter,
    writeRateLimiter: deps.writeRateLimiter,
    // Rows imported so far by this request's calls (a batch shares them; import-procedure.ts caps
    // them): the reason a context must not outlive its request, in createCaller uses too.
    importRowsInRequest: { count: 0 },
    environments: deps.environments ?? ALL_ENVIRONMENTS,
    lazyBindingRequiresVerifiedEmail: deps.lazyBindingRequiresVerifiedEmail ?? false,
    authorization: request.authorization,
    authenticatedKey: request.authenticatedKey,
    idempotencyKey: request.idempotencyKey,
    setResponseHeader: request.setResponseHeader ?? (() => {}),
    access: request.access,
  };
}

export type Context = ReturnType<typeof createContextInner>;
