import type { RateLimitDecision } from "./rate-limiter.js";

/**
 * The token bucket's arithmetic, once. The database engine's SQL (rate-limit-buckets.repository.ts)
 * and the Redis engine's Lua script (redis-token-bucket.ts) do the same, step for step, in double
 * precision; the engine tests run one script of calls on every engine and expect the same answers.
 */

/**
 * A hair of slack: refills summed in floating point may fall a rounding error short of a whole
 * batch at exactly the advertised moment.
 */
export const REFILL_SLACK = 1e-6;

/** Units a bucket of `perMinute` gains a millisecond. */
export function refillPerMsOf(perMinute: number): number {
  return perMinute / 60_000;
}

/** What a call of `cost` must find in the bucket: all of it, or a whole bucket if it costs more. */
export function neededFor(cost: number, perMinute: number): number {
  return Math.min(cost, perMinute);
}

/** The bucket's units at `now`, from what it held at `updatedAt`; never more than `perMinute`, never less for a clock behind. */
export function refilled(
  tokens: number,
  updatedAt: number,
  now: number,
  perMinute: number,
  refillPerMs: number,
): number {
  return Math.min(perMinute, tokens + Math.max(0, now - updatedAt) * refillPerMs);
}

export const ALLOWED: RateLimitDecision = Object.freeze({ allowed: true, retryAfterSeconds: 0 });

/** The refusal for a bucket holding `tokens` when `needed` are asked. */
export function refusal(needed: number, tokens: number, refillPerMs: number): RateLimitDecision {
  // Whole milliseconds first: float residue must not turn an exact 1 s wait into 2.
  const waitMs = Math.round((needed - tokens) / refillPerMs);
  return { allowed: false, retryAfterSeconds: retryAfterSecondsFor(waitMs) };
}

/** The Retry-After for a wait of `waitMs`: whole seconds, at least 1. */
export function retryAfterSecondsFor(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
