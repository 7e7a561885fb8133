import type { Clock } from "../shared/clock.js";
import type { RateLimitDecision, RateLimiter } from "./rate-limiter.js";
import { ALLOWED, neededFor, REFILL_SLACK, refilled, refillPerMsOf, refusal } from "./token-bucket.js";

/**
 * The token bucket in memory, per process: a second server process has its own buckets. The
 * default with SQLite (one process). It answers synchronously: the hot path awaits nothing.
 */
export class MemoryRateLimiter implements RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();
  readonly #refillPerMs: number;

  constructor(
    readonly perMinute: number,
    private readonly clock: Clock,
  ) {
    this.#refillPerMs = refillPerMsOf(perMinute);
  }

  take(key: string, cost = 1): RateLimitDecision {
    return this.#decide(key, cost, true);
  }

  check(key: string, cost = 1): RateLimitDecision {
    return this.#decide(key, cost, false);
  }

  #decide(key: string, cost: number, take: boolean): RateLimitDecision {
    const now = this.clock.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.perMinute, updatedAt: now };
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = refilled(bucket.tokens, bucket.updatedAt, now, this.perMinute, this.#refillPerMs);
    bucket.updatedAt = Math.max(bucket.updatedAt, now);
    const needed = neededFor(cost, this.perMinute);
    if (bucket.tokens + REFILL_SLACK >= needed) {
      if (take) bucket.tokens -= cost;
      return ALLOWED;
    }
    return refusal(needed, bucket.tokens, this.#refillPerMs);
  }
}
