import { availableParallelism } from "node:os";
import { isAbsolute, resolve } from "node:path";
import type { Environment } from "@billingos/contracts";
import { z } from "zod";
import { defaultMaxBufferedBodyBytesPerTenant } from "./http/body-budget.js";
import type { RateLimitStore } from "./rate-limits/open-rate-limiters.js";
import type { OnUnavailable } from "./rate-limits/redis-rate-limiter.js";

const DAY_MS = 86_400_000;

/** The SQLite file when DATABASE_PATH is not set, relative to where the command runs. */
export const DEFAULT_DATABASE_PATH = "./data/billingos.sqlite";

/** The address the server listens on when HOST is not set: this machine only. */
export const DEFAULT_HOST = "127.0.0.1";

/** PostgreSQL connections per process when DATABASE_POOL_SIZE is not set. */
export const DEFAULT_DATABASE_POOL_SIZE = 10;

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** RATE_LIMIT_TIMEOUT_MS when not set: long enough for a Redis on the network, short enough not to stall a request. */
export const DEFAULT_RATE_LIMIT_TIMEOUT_MS = 250;

/** A redis:// or rediss:// URL naming a host (the rest is checked when it connects). */
function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "redis:" || url.protocol === "rediss:") && url.hostname !== "";
  } catch {
    return false;
  }
}

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .refine((value) => /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max, {
      error: (issue) => `${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(issue.input)})`,
    })
    .transform(Number);

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Environment variables the server reads, with their defaults. README's configuration table mirrors this. */
const environmentSchema = z.object({
  PORT: integer("PORT", 0, 65_535).default(4000),
  // Loopback unless told otherwise: a development server with an auto-made key must not be
  // reachable from the network by default. HOST=0.0.0.0 (or ::) listens on every interface.
  HOST: z.string().min(1).default(DEFAULT_HOST),
  DATABASE_PATH: z.string().min(1, { error: "DATABASE_PATH must not be empty" }).default(DEFAULT_DATABASE_PATH),
  // Only its scheme is checked here; the rest (host, credentials, reachability) when the store opens.
  DATABASE_URL: z
    .string()
    .refine((value) => POSTGRES_URL.test(value), {
      error: () =>
        "DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@host:5432/billingos (unset it to use SQLite at DATABASE_PATH)",
    })
    .optional(),
  DATABASE_POOL_SIZE: integer("DATABASE_POOL_SIZE", 1, 1000).default(DEFAULT_DATABASE_POOL_SIZE),
  POSTGRES_KEY_CACHE: z
    .enum(["listen", "off"], {
      error: (issue) => `POSTGRES_KEY_CACHE must be "listen" or "off" (got ${JSON.stringify(issue.input)})`,
    })
    .default("listen"),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, {
      error: (issue) => `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got ${JSON.stringify(issue.input)})`,
    })
    .default("info"),
  LOG_FORMAT: z
    .enum(["json", "pretty"], {
      error: (issue) => `LOG_FORMAT must be "json" or "pretty" (got ${JSON.stringify(issue.input)})`,
    })
    .default("json"),
  TOKEN_RETENTION_DAYS: integer("TOKEN_RETENTION_DAYS", 0, 3650).default(7),
  AUDIT_RETENTION_DAYS: integer("AUDIT_RETENTION_DAYS", 1, 36_500).default(90),
  SHUTDOWN_TIMEOUT_MS: integer("SHUTDOWN_TIMEOUT_MS", 0, 600_000).default(10_000),
  CREATE_RATE_LIMIT_PER_MINUTE: integer("CREATE_RATE_LIMIT_PER_MINUTE", 0, 10_000_000).default(600),
  IMPORT_RATE_LIMIT_ROWS_PER_MINUTE: integer("IMPORT_RATE_LIMIT_ROWS_PER_MINUTE", 0, 100_000_000).default(60_000),
  WRITE_RATE_LIMIT_PER_MINUTE: integer("WRITE_RATE_LIMIT_PER_MINUTE", 0, 10_000_000).default(3_000),
  // Default: redis with RATE_LIMIT_URL, database with DATABASE_URL, else memory (worked out in loadConfig).
  RATE_LIMIT_STORE: z
    .enum(["memory", "database", "redis"], {
      error: (issue) => `RATE_LIMIT_STORE must be "memory", "database" or "redis" (got ${JSON.stringify(issue.input)})`,
    })
    .optional(),
  // Not echoed in the message: it may hold a password.
  RATE_LIMIT_URL: z
    .string()
    .refine(isRedisUrl, {
      error: () => "RATE_LIMIT_URL must be a Redis URL such as redis://host:6379 or rediss://user:password@host:6380/0",
    })
    .optional(),
  RATE_LIMIT_ON_UNAVAILABLE: z
    .enum(["open", "closed"], {
      error: (issue) => `RATE_LIMIT_ON_UNAVAILABLE must be "open" or "closed" (got ${JSON.stringify(issue.input)})`,
    })
    .default("open"),
  RATE_LIMIT_TIMEOUT_MS: integer("RATE_LIMIT_TIMEOUT_MS", 10, 60_000).default(DEFAULT_RATE_LIMIT_TIMEOUT_MS),
  MAX_BODY_BYTES: integer("MAX_BODY_BYTES", 1024, 64 * 1024 * 1024).default(1024 * 1024),
  MAX_BATCH_SIZE: integer("MAX_BATCH_SIZE", 1, 1000).default(10),
  MAX_CONNECTIONS: integer("MAX_CONNECTIONS", 1, 1_000_000).default(1024),
  MAX_BUFFERED_BODY_BYTES: integer("MAX_BUFFERED_BODY_BYTES", 1024, 16 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  // Default: an eighth of MAX_BUFFERED_BODY_BYTES, at least MAX_BODY_BYTES (worked out in loadConfig).
  MAX_BUFFERED_BODY_BYTES_PER_TENANT: integer(
    "MAX_BUFFERED_BODY_BYTES_PER_TENANT",
    1024,
    16 * 1024 * 1024 * 1024,
  ).optional(),
  MAX_CONNECTIONS_PER_ADDRESS: integer("MAX_CONNECTIONS_PER_ADDRESS", 0, 1_000_000).default(512),
  // "auto": one per core. A whole number: that many.
  WORKERS: z
    .string()
    .refine((value) => value === "auto" || (/^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 256), {
      error: (issue) =>
        `WORKERS must be "auto" (one per core) or a whole number from 1 to 256 (got ${JSON.stringify(issue.input)})`,
    })
    .transform((value) => (value === "auto" ? availableParallelism() : Number(value)))
    .default(1),
  HTTP_HANDLER: z
    .enum(["fast", "stock"], {
      error: (issue) => `HTTP_HANDLER must be "fast" or "stock" (got ${JSON.stringify(issue.input)})`,
    })
    .default("fast"),
  ENVIRONMENTS: z
    .enum(["test", "live", "test,live", "live,test"], {
      error: (issue) => `ENVIRONMENTS must be "test", "live" or "test,live" (got ${JSON.stringify(issue.input)})`,
    })
    .default("test,live")
    .transform((value) => value.split(",") as Environment[]),
  LAZY_BINDING_REQUIRES_VERIFIED_EMAIL: z
    .enum(["true", "false"], {
      error: (issue) =>
        `LAZY_BINDING_REQUIRES_VERIFIED_EMAIL must be "true" or "false" (got ${JSON.stringify(issue.input)})`,
    })
    .default("false")
    .transform((value) => value === "true"),
  CORS_ORIGINS: z
    .string()
    .default("")
    .refine((value) => listOf(value).every(isOrigin), {
      error: (issue) =>
        `CORS_ORIGINS must be a comma-separated list of origins such as https://app.example.com (got ${JSON.stringify(issue.input)})`,
    })
    .transform(listOf),
});

function listOf(value: string): string[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === value;
  } catch {
    return false;
  }
}

export interface Config {
  port: number;
  host: string;
  databasePath: string;
  /** postgres://…: the service runs on PostgreSQL; undefined: on SQLite at databasePath. */
  databaseUrl: string | undefined;
  /** PostgreSQL connections at most in this process's pool. */
  databasePoolSize: number;
  /** PostgreSQL: keep found keys while listening for their changes ("listen"), or read them every time ("off"). */
  postgresKeyCache: "listen" | "off";
  logLevel: (typeof LOG_LEVELS)[number];
  /** "json" for log shippers, "pretty" for a terminal (pnpm dev's default). */
  logFormat: "json" | "pretty";
  tokenRetentionMs: number;
  /** Audit events older than this are purged once their subject is gone (see audit-retention.ts). */
  auditRetentionMs: number;
  shutdownTimeoutMs: number;
  environments: Environment[];
  corsOrigins: string[];
  /** Token creations a minute per secret key; 0 turns the limit off. */
  createRateLimitPerMinute: number;
  /** Customers imported a minute per secret key (dry runs included); 0 turns the limit off. */
  importRateLimitRowsPerMinute: number;
  /** Other merchant writes (revoke, revokeForCustomer, bind, unbind) a minute per secret key, together; 0 turns the limit off. */
  writeRateLimitPerMinute: number;
  /** Where the rate limits' buckets live: this process's memory, the database (shared), or Redis (shared). */
  rateLimitStore: RateLimitStore;
  /** redis://… when rateLimitStore is "redis". */
  rateLimitUrl: string | undefined;
  /** While Redis cannot be asked: each host limits alone ("open") or refuses with 503 ("closed"). */
  rateLimitOnUnavailable: OnUnavailable;
  /** How long a Redis connection attempt or call may take before Redis counts as unreachable. */
  rateLimitTimeoutMs: number;
  maxBodyBytes: number;
  maxBatchSize: number;
  /** Open connections at once; more are closed as they arrive. */
  maxConnections: number;
  /** Bytes of request bodies held at once across all requests; a body past it gets 503 + Retry-After, unread. */
  maxBufferedBodyBytes: number;
  /** Bytes of request bodies one organization may have held at once; its body past it gets 429 + Retry-After, unread. */
  maxBufferedBodyBytesPerTenant: number;
  /** Open connections from one client address (IPv6: one /64); more from it are closed as they arrive. 0: no cap. */
  maxConnectionsPerAddress: number;
  /** "fast": tRPC's wire protocol on node:http for plain JSON calls; "stock": tRPC's adapter for all. */
  httpHandler: "fast" | "stock";
  /** Server processes behind the one port (WORKERS; 1: this process serves alone). */
  workers: number;
  /** Lazy binding uses only emails sent with `emailVerified: true`. */
  lazyBindingRequiresVerifiedEmail: boolean;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * A relative DATABASE_PATH is taken from where the command was typed: pnpm runs scripts inside
 * the package folder but records the caller's folder in INIT_CWD.
 */
export function resolveDatabasePath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  if (path === ":memory:" || isAbsolute(path)) return path;
  return resolve(env.INIT_CWD ?? process.cwd(), path);
}

/** Reads and checks the configuration; a bad value throws ConfigError with a one-line message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = environmentSchema.safeParse(given);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => issue.message);
    throw new ConfigError(`Invalid configuration: ${messages.join("; ")}`);
  }
  const values = parsed.data;
  if (values.MAX_BUFFERED_BODY_BYTES < values.MAX_BODY_BYTES) {
    throw new ConfigError(
      `Invalid configuration: MAX_BUFFERED_BODY_BYTES (${values.MAX_BUFFERED_BODY_BYTES}) must be at least MAX_BODY_BYTES (${values.MAX_BODY_BYTES}), or no body of the largest size could ever be read`,
    );
  }
  const maxBufferedBodyBytesPerTenant =
    values.MAX_BUFFERED_BODY_BYTES_PER_TENANT ??
    defaultMaxBufferedBodyBytesPerTenant(values.MAX_BUFFERED_BODY_BYTES, values.MAX_BODY_BYTES);
  if (maxBufferedBodyBytesPerTenant < values.MAX_BODY_BYTES) {
    throw new ConfigError(
      `Invalid configuration: MAX_BUFFERED_BODY_BYTES_PER_TENANT (${maxBufferedBodyBytesPerTenant}) must be at least MAX_BODY_BYTES (${values.MAX_BODY_BYTES}), or no body of the largest size could ever be read`,
    );
  }
  const rateLimitStore = rateLimitStoreOf(values);
  return {
    port: values.PORT,
    host: values.HOST,
    databasePath: resolveDatabasePath(values.DATABASE_PATH, env),
    databaseUrl: values.DATABASE_URL,
    databasePoolSize: values.DATABASE_POOL_SIZE,
    postgresKeyCache: values.POSTGRES_KEY_CACHE,
    logLevel: values.LOG_LEVEL,
    logFormat: values.LOG_FORMAT,
    tokenRetentionMs: values.TOKEN_RETENTION_DAYS * DAY_MS,
    auditRetentionMs: values.AUDIT_RETENTION_DAYS * DAY_MS,
    shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT_MS,
    environments: values.ENVIRONMENTS,
    corsOrigins: values.CORS_ORIGINS,
    createRateLimitPerMinute: values.CREATE_RATE_LIMIT_PER_MINUTE,
    importRateLimitRowsPerMinute: values.IMPORT_RATE_LIMIT_ROWS_PER_MINUTE,
    writeRateLimitPerMinute: values.WRITE_RATE_LIMIT_PER_MINUTE,
    rateLimitStore,
    rateLimitUrl: values.RATE_LIMIT_URL,
    rateLimitOnUnavailable: values.RATE_LIMIT_ON_UNAVAILABLE,
    rateLimitTimeoutMs: values.RATE_LIMIT_TIMEOUT_MS,
    maxBodyBytes: values.MAX_BODY_BYTES,
    maxBatchSize: values.MAX_BATCH_SIZE,
    maxConnections: values.MAX_CONNECTIONS,
    maxBufferedBodyBytes: values.MAX_BUFFERED_BODY_BYTES,
    maxBufferedBodyBytesPerTenant,
    maxConnectionsPerAddress: values.MAX_CONNECTIONS_PER_ADDRESS,
    httpHandler: values.HTTP_HANDLER,
    workers: values.WORKERS,
    lazyBindingRequiresVerifiedEmail: values.LAZY_BINDING_REQUIRES_VERIFIED_EMAIL,
  };
}

/**
 * The rate limiter's engine: as RATE_LIMIT_STORE says, else Redis when RATE_LIMIT_URL is set, else
 * the database on PostgreSQL (several hosts share it, so a per-process limit would multiply), else
 * memory (SQLite: one process).
 */
function rateLimitStoreOf(values: z.infer<typeof environmentSchema>): RateLimitStore {
  const url = values.RATE_LIMIT_URL;
  const store =
    values.RATE_LIMIT_STORE ??
    (url !== undefined ? "redis" : values.DATABASE_URL !== undefined ? "database" : "memory");
  if (store === "redis" && url === undefined) {
    throw new ConfigError(
      "Invalid configuration: RATE_LIMIT_STORE=redis needs RATE_LIMIT_URL (a Redis URL such as redis://host:6379)",
    );
  }
  if (store !== "redis" && url !== undefined) {
    throw new ConfigError(
      `Invalid configuration: RATE_LIMIT_URL is set but RATE_LIMIT_STORE is "${store}": unset one of them`,
    );
  }
  return store;
}
