import type { Clock } from "./clock.js";

export interface RateLimitDecision {
  allowed: boolean;
  /** When refused: whole seconds until a call of the same cost is allowed. */
  retryAfterSeconds: number;
}

/**
 * A token bucket per key: `perMinute` units a minute on average, in bursts of up to `perMinute`.
 * A call takes `cost` units (1 for a token creation or another write, its rows for an import). A call costing more
 * than a whole bucket is let through when the bucket is full, leaving it in debt, so that it waits
 * its turn instead of being refused for ever. In memory, per process: a second server process has
 * its own buckets.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();
  readonly #refillPerMs: number;

  constructor(
    readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    this.#refillPerMs = perMinute / 60_000;
  }

  /** Takes `cost` units from the key's bucket if it holds enough; refuses with the wait otherwise. */
  take(key: string, cost = 1): RateLimitDecision {
    return this.#decide(key, cost, true);
  }

  /** What `take` would decide now, taking nothing: to refuse cheaply before costly work. */
  check(key: string, cost = 1): RateLimitDecision {
    return this.#decide(key, cost, false);
  }

  #decide(key: string, cost: number, take: boolean): RateLimitDecision {
    const now = this.clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.perMinute, updatedAt: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updatedAt) * this.#refillPerMs);
    bucket.updatedAt = now;
    this.#buckets.set(key, bucket);
    const needed = Math.min(cost, this.perMinute);
    // A hair of slack: refills summed in floating point may fall a rounding error short of a whole
    // batch at exactly the advertised moment.
    if (bucket.tokens + 1e-6 >= needed) {
      if (take) bucket.tokens -= cost;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    // Whole milliseconds first: float residue must not turn an exact 1 s wait into 2.
    const waitMs = Math.round((needed - bucket.tokens) / this.#refillPerMs);
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
