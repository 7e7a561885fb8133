import type { Clock } from "../shared/clock.js";
import type { Queryable } from "../store/queryable.js";
import type { Store } from "../store/store.js";
import type { RateLimitDecision, RateLimiter } from "./rate-limiter.js";
import { readBucket, takeFromBucket } from "./rate-limit-buckets.repository.js";
import { ALLOWED, REFILL_SLACK, neededFor, refillPerMsOf, refilled, refusal } from "./token-bucket.js";

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
    const take = (db: Queryable) => takeFromBucket(db, bucket, now, cost, needed, this.perMinute, this.#refillPerMs);
    // The statement is atomic alone; how it runs best differs. PostgreSQL: on its own, one round
    // trip, autocommit, so a busy key's row is locked only while the server runs it, never across
    // a round trip to this host (in a transaction the next call of the key would wait for our
    // COMMIT to travel). SQLite: as a grouped unit, which waits its turn for a write lock held by
    // another process (a write outside a unit would fail at once) and shares a commit with the
    // units arriving with it.
    const { rows } = this.store.engine === "postgres" ? await take(this.store) : await this.store.groupedTransaction(take);
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
