import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/store.js";
import { readBucket, takeFromBucket } from "./rate-limit-buckets.repository.js";
import type { RateLimitDecision, RateLimiter } from "./rate-limiter.js";
import { ALLOWED, neededFor, REFILL_SLACK, refilled, refillPerMsOf, refusal } from "./token-bucket.js";

/**
 * The token bucket in the database (RATE_LIMIT_STORE=database): a row per limit and key, taken
 * from by one atomic upsert, so the limit is exact across every process and host on the database,
 * PostgreSQL or one SQLite file. The default on PostgreSQL. Idle full buckets are purged with the
 * retention purge (rate-limit-retention.ts). A database failure is the store's: a 503 like any.
 */
export class DatabaseRateLimiter implements RateLimiter {
  readonly #refillPerMs: number;

  /** `name` tells this limit's buckets from another's on the same key ("create", "write", "import"). */
  constructor(
    readonly name: string,
    readonly perMinute: number,
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    this.#refillPerMs = refillPerMsOf(perMinute);
  }

  async take(key: string, cost = 1): Promise<RateLimitDecision> {
    const now = this.clock.now();
    const needed = neededFor(cost, this.perMinute);
    const bucket = this.#bucket(key);
    const { rows } = await this.store.singleStatementWrite((db) =>
      takeFromBucket(db, bucket, now, cost, needed, this.perMinute, this.#refillPerMs),
    );
    const row = rows[0]!;
    return Number(row.refused) === 0 ? ALLOWED : refusal(needed, Number(row.tokens), this.#refillPerMs);
  }

  async check(key: string, cost = 1): Promise<RateLimitDecision> {
    const now = this.clock.now();
    const needed = neededFor(cost, this.perMinute);
    const { rows } = await readBucket(this.store, this.#bucket(key));
    const row = rows[0];
    if (row === undefined) return ALLOWED;
    const tokens = refilled(Number(row.tokens), Number(row.updated_at), now, this.perMinute, this.#refillPerMs);
    return tokens + REFILL_SLACK >= needed ? ALLOWED : refusal(needed, tokens, this.#refillPerMs);
  }

  #bucket(key: string): string {
    return `${this.name}:${key}`;
  }
}
