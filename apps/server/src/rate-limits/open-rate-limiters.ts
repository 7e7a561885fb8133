import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Store } from "../store/store.js";
import { DatabaseRateLimiter } from "./database-rate-limiter.js";
import { MemoryRateLimiter } from "./memory-rate-limiter.js";
import type { RateLimiter } from "./rate-limiter.js";
import { type OnUnavailable, RedisConnection, RedisRateLimiter } from "./redis-rate-limiter.js";

/** Where the buckets live (RATE_LIMIT_STORE). */
export type RateLimitStore = "memory" | "database" | "redis";

export interface RateLimitSettings {
  rateLimitStore: RateLimitStore;
  /** redis://… when rateLimitStore is "redis". */
  rateLimitUrl: string | undefined;
  rateLimitOnUnavailable: OnUnavailable;
  rateLimitTimeoutMs: number;
  createRateLimitPerMinute: number;
  writeRateLimitPerMinute: number;
  importRateLimitRowsPerMinute: number;
}

/** A host's limiters (absent: that limit is off) and how to let go of what they hold. */
export interface RateLimiters {
  createRateLimiter: RateLimiter | undefined;
  writeRateLimiter: RateLimiter | undefined;
  importRateLimiter: RateLimiter | undefined;
  close(): Promise<void>;
}

/**
 * The three limits on the configured engine. Redis is connected to before the server listens
 * (waiting at most RATE_LIMIT_TIMEOUT_MS): a Redis not there yet is not fatal, the limiters
 * answer per RATE_LIMIT_ON_UNAVAILABLE until it is.
 */
export async function openRateLimiters(
  settings: RateLimitSettings,
  deps: { store: Store; clock: Clock; logger: Logger },
): Promise<RateLimiters> {
  let connection: RedisConnection | undefined;
  let engine: (name: string, perMinute: number) => RateLimiter;
  switch (settings.rateLimitStore) {
    case "memory":
      engine = (_name, perMinute) => new MemoryRateLimiter(perMinute, deps.clock);
      break;
    case "database":
      engine = (name, perMinute) => new DatabaseRateLimiter(name, perMinute, deps.store, deps.clock);
      break;
    case "redis": {
      const redis = new RedisConnection({
        url: settings.rateLimitUrl!,
        timeoutMs: settings.rateLimitTimeoutMs,
        logger: deps.logger,
      });
      connection = redis;
      await redis.connect();
      engine = (name, perMinute) =>
        new RedisRateLimiter(name, perMinute, redis, deps.clock, settings.rateLimitOnUnavailable);
      break;
    }
  }
  const limit = (name: string, perMinute: number) => (perMinute > 0 ? engine(name, perMinute) : undefined);
  return {
    createRateLimiter: limit("create", settings.createRateLimitPerMinute),
    writeRateLimiter: limit("write", settings.writeRateLimitPerMinute),
    importRateLimiter: limit("import", settings.importRateLimitRowsPerMinute),
    close: async () => {
      await connection?.close();
    },
  };
}
