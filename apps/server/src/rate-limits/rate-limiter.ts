import { RetryLaterError } from "../shared/domain-error.js";

export interface RateLimitDecision {
  allowed: boolean;
  /** When refused: whole seconds until a call of the same cost is allowed. */
  retryAfterSeconds: number;
}

/**
 * A decision, or the promise of one. The memory engine answers at once, and its callers await
 * only a promise: the default limiter costs no microtask on the hot path.
 */
export type RateLimitAnswer = RateLimitDecision | Promise<RateLimitDecision>;

/**
 * The rate-limit port: a token bucket per key, `perMinute` units a minute on average, in bursts of
 * up to `perMinute`. A call takes `cost` units (1 for a token creation or another write, its rows
 * for an import). A call costing more than a whole bucket is let through when the bucket is full,
 * leaving it in debt, so that it waits its turn instead of being refused for ever.
 *
 * Engines (open-rate-limiters.ts picks one from RATE_LIMIT_STORE): memory (per process),
 * database (one row per bucket, exact across every process on the database) and Redis (exact
 * across hosts, one round trip). All three do the same arithmetic (token-bucket.ts).
 */
export interface RateLimiter {
  readonly perMinute: number;
  /** Takes `cost` units from the key's bucket if it holds enough; refuses with the wait otherwise. */
  take(key: string, cost?: number): RateLimitAnswer;
  /** What `take` would decide now, taking nothing: to refuse cheaply before costly work. */
  check(key: string, cost?: number): RateLimitAnswer;
}

/** The shared limiter could not be asked (Redis unreachable) and RATE_LIMIT_ON_UNAVAILABLE is "closed". */
export class RateLimiterUnavailableError extends RetryLaterError {
  constructor(retryAfterSeconds: number) {
    super(
      "SERVICE_UNAVAILABLE",
      `The rate limiter cannot be reached; retry in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    );
  }
}
