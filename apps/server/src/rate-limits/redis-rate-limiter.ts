import { Redis } from "ioredis";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { MemoryRateLimiter } from "./memory-rate-limiter.js";
import { type RateLimitDecision, type RateLimiter, RateLimiterUnavailableError } from "./rate-limiter.js";
import { TOKEN_BUCKET_LUA, TOKEN_BUCKET_SHA1 } from "./redis-token-bucket.js";
import { ALLOWED, neededFor, refillPerMsOf, refusal } from "./token-bucket.js";

/** What a host does while Redis cannot be asked (RATE_LIMIT_ON_UNAVAILABLE). */
export type OnUnavailable = "open" | "closed";

/** The Retry-After of a 503 while Redis is unreachable: the client tries to reconnect at least this often. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/** The longest pause between two reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 1_000;

export interface RedisConnectionOptions {
  /** redis:// or rediss:// (RATE_LIMIT_URL). */
  url: string;
  /** How long a connection attempt or a command may take before it counts as unreachable (RATE_LIMIT_TIMEOUT_MS). */
  timeoutMs: number;
  logger: Logger;
}

/**
 * One Redis connection shared by a host's limiters, set up so that Redis going away never blocks
 * or double-counts a call:
 * - a command waits at most `timeoutMs` (an unanswered one fails with a timeout), and while
 *   disconnected a command fails at once (no offline queue) instead of waiting for a reconnection;
 * - a command in flight when the connection drops is failed, never sent again on the next
 *   connection (no resend, no retry): a script that ran but whose answer was lost counts once,
 *   one that never arrived not at all;
 * - the client reconnects by itself, forever, at most a second apart: the limit holds again as
 *   soon as Redis answers.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly #logger: Logger;
  #reachable = true;

  constructor(options: RedisConnectionOptions) {
    this.#logger = options.logger;
    this.client = new Redis(options.url, {
      lazyConnect: true,
      connectTimeout: options.timeoutMs,
      commandTimeout: options.timeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
    });
    // Each failed reconnection emits an error; the calls that fail meanwhile say it once (below).
    this.client.on("error", (error: Error) =>
      this.#logger.debug({ err: error }, "rate limiter: Redis connection error"),
    );
  }

  /** Connects, waiting at most the timeout; unreachable now is not fatal (calls fail open or closed until it answers). */
  async connect(): Promise<void> {
    try {
      await this.client.connect();
    } catch (error) {
      this.failed(error);
    }
  }

  /** Runs the token-bucket script: EVALSHA, and EVAL once if Redis does not know it yet (a new or restarted server). */
  async runTokenBucket(key: string, args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(TOKEN_BUCKET_SHA1, 1, key, ...args);
    } catch (error) {
      // NOSCRIPT: the script did not run, so running it now counts the call once.
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await this.client.eval(TOKEN_BUCKET_LUA, 1, key, ...args);
    }
  }

  /** Says once per outage that Redis cannot be reached. */
  failed(error: unknown): void {
    if (!this.#reachable) return;
    this.#reachable = false;
    this.#logger.warn(
      { err: error },
      "rate limiter: Redis cannot be reached; limits apply per RATE_LIMIT_ON_UNAVAILABLE until it answers",
    );
  }

  /** Says once that Redis answers again. */
  answered(): void {
    if (this.#reachable) return;
    this.#reachable = true;
    this.#logger.info("rate limiter: Redis answers again; limits are shared across hosts again");
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/**
 * The token bucket in Redis (RATE_LIMIT_URL): one atomic script per call, one round trip, exact
 * across every host sharing the Redis. While Redis cannot be asked, `onUnavailable` decides:
 * "open" answers from this host's own in-memory bucket (each host limits alone, so N hosts let
 * up to N times the limit through), "closed" refuses with a 503 and Retry-After.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #refillPerMs: number;
  readonly #local: MemoryRateLimiter;

  /** `name` tells this limit's buckets from another's on the same key ("create", "write", "import"). */
  constructor(
    readonly name: string,
    readonly perMinute: number,
    private readonly connection: RedisConnection,
    private readonly clock: Clock,
    private readonly onUnavailable: OnUnavailable,
  ) {
    this.#refillPerMs = refillPerMsOf(perMinute);
    this.#local = new MemoryRateLimiter(perMinute, clock);
  }

  take(key: string, cost = 1): Promise<RateLimitDecision> {
    return this.#decide(key, cost, true);
  }

  check(key: string, cost = 1): Promise<RateLimitDecision> {
    return this.#decide(key, cost, false);
  }

  async #decide(key: string, cost: number, take: boolean): Promise<RateLimitDecision> {
    const needed = neededFor(cost, this.perMinute);
    let reply: unknown;
    try {
      reply = await this.connection.runTokenBucket(`billingos:rate-limit:${this.name}:${key}`, [
        this.clock.now(),
        cost,
        needed,
        this.perMinute,
        this.#refillPerMs,
        take ? 1 : 0,
      ]);
    } catch (error) {
      this.connection.failed(error);
      if (this.onUnavailable === "closed") throw new RateLimiterUnavailableError(UNAVAILABLE_RETRY_AFTER_SECONDS);
      return take ? this.#local.take(key, cost) : this.#local.check(key, cost);
    }
    this.connection.answered();
    const [allowed, tokens] = reply as [number, string?];
    return allowed === 1 ? ALLOWED : refusal(needed, Number(tokens), this.#refillPerMs);
  }
}
