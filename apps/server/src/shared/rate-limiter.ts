import type { Clock } from "./clock.js";

export interface RateLimitDecision {
  allowed: boolean;
  /** When refused: whole seconds until one more call is allowed. */
  retryAfterSeconds: number;
}

/**
 * A token bucket per key: `perMinute` calls a minute on average, in bursts of up to `perMinute`.
 * In memory, per process: a second server process has its own buckets.
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

  take(key: string): RateLimitDecision {
    const now = this.clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.perMinute, updatedAt: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.updatedAt) * this.#refillPerMs);
    bucket.updatedAt = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    // Whole milliseconds first: float residue must not turn an exact 1 s wait into 2.
    const waitMs = Math.round((1 - bucket.tokens) / this.#refillPerMs);
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
