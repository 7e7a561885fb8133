import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, resolveDatabasePath } from "../src/config.js";

describe("loadConfig", () => {
  it("has defaults for everything", () => {
    const config = loadConfig({ INIT_CWD: "/srv/app" });
    expect(config).toEqual({
      port: 4000,
      host: "127.0.0.1",
      databasePath: "/srv/app/data/billingos.sqlite",
      databaseUrl: undefined,
      databasePoolSize: 10,
      postgresKeyCache: "listen",
      logLevel: "info",
      logFormat: "json",
      tokenRetentionMs: 7 * 86_400_000,
      auditRetentionMs: 90 * 86_400_000,
      shutdownTimeoutMs: 10_000,
      environments: ["test", "live"],
      corsOrigins: [],
      createRateLimitPerMinute: 600,
      importRateLimitRowsPerMinute: 60_000,
      writeRateLimitPerMinute: 3_000,
      rateLimitStore: "memory",
      rateLimitUrl: undefined,
      rateLimitOnUnavailable: "open",
      rateLimitTimeoutMs: 250,
      maxBodyBytes: 1024 * 1024,
      maxBatchSize: 10,
      maxConnections: 1024,
      maxBufferedBodyBytes: 64 * 1024 * 1024,
      maxBufferedBodyBytesPerTenant: 8 * 1024 * 1024,
      maxConnectionsPerAddress: 512,
      httpHandler: "fast",
      workers: 1,
      lazyBindingRequiresVerifiedEmail: false,
    });
  });

  it("reads the served environments and the CORS origins", () => {
    const config = loadConfig({ ENVIRONMENTS: "test", CORS_ORIGINS: "http://localhost:3000, https://app.example.com" });
    expect(config.environments).toEqual(["test"]);
    expect(config.corsOrigins).toEqual(["http://localhost:3000", "https://app.example.com"]);
  });

  it("reads every variable", () => {
    const config = loadConfig({
      PORT: "8080",
      HOST: "127.0.0.1",
      DATABASE_PATH: "/var/lib/billingos.sqlite",
      LOG_LEVEL: "warn",
      TOKEN_RETENTION_DAYS: "30",
      SHUTDOWN_TIMEOUT_MS: "500",
      MAX_CONNECTIONS: "200",
      MAX_BUFFERED_BODY_BYTES: "8388608",
      WRITE_RATE_LIMIT_PER_MINUTE: "120",
      MAX_CONNECTIONS_PER_ADDRESS: "0",
    });
    expect(config).toMatchObject({
      maxConnections: 200,
      maxBufferedBodyBytes: 8 * 1024 * 1024,
      writeRateLimitPerMinute: 120,
      maxConnectionsPerAddress: 0,
    });
    // The tenant share follows the total unless set: an eighth, at least one largest body.
    expect(config.maxBufferedBodyBytesPerTenant).toBe(1024 * 1024);
    expect(loadConfig({ MAX_BUFFERED_BODY_BYTES_PER_TENANT: "2097152" }).maxBufferedBodyBytesPerTenant).toBe(
      2 * 1024 * 1024,
    );
    expect(config).toMatchObject({
      port: 8080,
      host: "127.0.0.1",
      databasePath: "/var/lib/billingos.sqlite",
      logLevel: "warn",
    });
    expect(config.tokenRetentionMs).toBe(30 * 86_400_000);
  });

  it("runs one process unless WORKERS says otherwise; auto is one per core", () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ WORKERS: "3" }).workers).toBe(3);
    expect(loadConfig({ WORKERS: "auto" }).workers).toBe(availableParallelism());
  });

  it("keeps found keys on PostgreSQL while listening, unless told off", () => {
    expect(loadConfig({}).postgresKeyCache).toBe("listen");
    expect(loadConfig({ POSTGRES_KEY_CACHE: "off" }).postgresKeyCache).toBe("off");
  });

  describe("the rate limiter's engine", () => {
    it("is memory on SQLite, the database on PostgreSQL, Redis when RATE_LIMIT_URL is set", () => {
      expect(loadConfig({}).rateLimitStore).toBe("memory");
      expect(loadConfig({ DATABASE_URL: "postgres://db/billingos" }).rateLimitStore).toBe("database");
      const redis = loadConfig({ DATABASE_URL: "postgres://db/billingos", RATE_LIMIT_URL: "redis://cache:6379/2" });
      expect(redis).toMatchObject({ rateLimitStore: "redis", rateLimitUrl: "redis://cache:6379/2" });
      expect(loadConfig({ RATE_LIMIT_URL: "rediss://user:secret@cache:6380" }).rateLimitStore).toBe("redis");
    });

    it("is what RATE_LIMIT_STORE says, whatever the database", () => {
      expect(loadConfig({ RATE_LIMIT_STORE: "database" }).rateLimitStore).toBe("database");
      expect(loadConfig({ DATABASE_URL: "postgres://db/billingos", RATE_LIMIT_STORE: "memory" }).rateLimitStore).toBe(
        "memory",
      );
      expect(loadConfig({ RATE_LIMIT_STORE: "redis", RATE_LIMIT_URL: "redis://cache" }).rateLimitStore).toBe("redis");
    });

    it("reads the outage policy and the timeout", () => {
      expect(loadConfig({ RATE_LIMIT_ON_UNAVAILABLE: "closed", RATE_LIMIT_TIMEOUT_MS: "500" })).toMatchObject({
        rateLimitOnUnavailable: "closed",
        rateLimitTimeoutMs: 500,
      });
    });

    it.each([
      [
        { RATE_LIMIT_URL: "http://cache:6379" },
        /^Invalid configuration: RATE_LIMIT_URL must be a Redis URL such as redis:\/\/host:6379/,
      ],
      [{ RATE_LIMIT_URL: "redis://" }, /RATE_LIMIT_URL must be a Redis URL/],
      [{ RATE_LIMIT_URL: "not a url" }, /RATE_LIMIT_URL must be a Redis URL/],
      [{ RATE_LIMIT_STORE: "redis" }, /RATE_LIMIT_STORE=redis needs RATE_LIMIT_URL/],
      [
        { RATE_LIMIT_STORE: "database", RATE_LIMIT_URL: "redis://cache" },
        /RATE_LIMIT_URL is set but RATE_LIMIT_STORE is "database": unset one of them/,
      ],
      [{ RATE_LIMIT_STORE: "postgres" }, /RATE_LIMIT_STORE must be "memory", "database" or "redis" \(got "postgres"\)/],
      [{ RATE_LIMIT_ON_UNAVAILABLE: "maybe" }, /RATE_LIMIT_ON_UNAVAILABLE must be "open" or "closed" \(got "maybe"\)/],
      [{ RATE_LIMIT_TIMEOUT_MS: "5" }, /RATE_LIMIT_TIMEOUT_MS must be a whole number from 10 to 60000/],
    ])("refuses %j with one line saying what is wrong", (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });

    it("never echoes RATE_LIMIT_URL, which may hold a password", () => {
      expect(() => loadConfig({ RATE_LIMIT_URL: "http://user:hunter2@cache" })).toThrow(/^(?!.*hunter2)/);
    });
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ PORT: "" }).port).toBe(4000);
  });

  // Each bad value is refused with one line naming the variable and what it got.
  it.each([
    [{ PORT: "eighty" }, 'PORT must be a whole number from 0 to 65535 (got "eighty")'],
    [{ PORT: "65536" }, 'PORT must be a whole number from 0 to 65535 (got "65536")'],
    [{ PORT: "-1" }, 'PORT must be a whole number from 0 to 65535 (got "-1")'],
    [{ PORT: "80.5" }, 'PORT must be a whole number from 0 to 65535 (got "80.5")'],
    [{ LOG_LEVEL: "loud" }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ HTTP_HANDLER: "turbo" }, 'HTTP_HANDLER must be "fast" or "stock" (got "turbo")'],
    [{ WORKERS: "0" }, 'WORKERS must be "auto" (one per core) or a whole number from 1 to 256 (got "0")'],
    [{ WORKERS: "all" }, 'WORKERS must be "auto" (one per core) or a whole number from 1 to 256 (got "all")'],
    [{ POSTGRES_KEY_CACHE: "on" }, 'POSTGRES_KEY_CACHE must be "listen" or "off" (got "on")'],
    [{ ENVIRONMENTS: "staging" }, 'ENVIRONMENTS must be "test", "live" or "test,live" (got "staging")'],
    [
      { CORS_ORIGINS: "http://localhost:3000/" },
      'CORS_ORIGINS must be a comma-separated list of origins such as https://app.example.com (got "http://localhost:3000/")',
    ],
    [
      { CORS_ORIGINS: "*" },
      'CORS_ORIGINS must be a comma-separated list of origins such as https://app.example.com (got "*")',
    ],
    [{ TOKEN_RETENTION_DAYS: "a week" }, 'TOKEN_RETENTION_DAYS must be a whole number from 0 to 3650 (got "a week")'],
    [{ MAX_CONNECTIONS: "0" }, 'MAX_CONNECTIONS must be a whole number from 1 to 1000000 (got "0")'],
    [
      { MAX_BUFFERED_BODY_BYTES: "64MiB" },
      'MAX_BUFFERED_BODY_BYTES must be a whole number from 1024 to 17179869184 (got "64MiB")',
    ],
    [
      { MAX_BUFFERED_BODY_BYTES: "2048", MAX_BODY_BYTES: "4096" },
      "MAX_BUFFERED_BODY_BYTES (2048) must be at least MAX_BODY_BYTES (4096), or no body of the largest size could ever be read",
    ],
    [
      { MAX_BUFFERED_BODY_BYTES_PER_TENANT: "2048", MAX_BODY_BYTES: "4096" },
      "MAX_BUFFERED_BODY_BYTES_PER_TENANT (2048) must be at least MAX_BODY_BYTES (4096), or no body of the largest size could ever be read",
    ],
    [
      { MAX_CONNECTIONS_PER_ADDRESS: "-1" },
      'MAX_CONNECTIONS_PER_ADDRESS must be a whole number from 0 to 1000000 (got "-1")',
    ],
    [
      { IMPORT_RATE_LIMIT_ROWS_PER_MINUTE: "-5" },
      'IMPORT_RATE_LIMIT_ROWS_PER_MINUTE must be a whole number from 0 to 100000000 (got "-5")',
    ],
    [
      { WRITE_RATE_LIMIT_PER_MINUTE: "3k" },
      'WRITE_RATE_LIMIT_PER_MINUTE must be a whole number from 0 to 10000000 (got "3k")',
    ],
    [
      { WRITE_RATE_LIMIT_PER_MINUTE: "-1" },
      'WRITE_RATE_LIMIT_PER_MINUTE must be a whole number from 0 to 10000000 (got "-1")',
    ],
  ])("refuses %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(`Invalid configuration: ${message}`);
  });
});

describe("resolveDatabasePath", () => {
  it("resolves a relative path from where the command was typed (INIT_CWD), keeps absolute and :memory:", () => {
    expect(resolveDatabasePath("./db.sqlite", { INIT_CWD: "/home/me/project" })).toBe("/home/me/project/db.sqlite");
    expect(resolveDatabasePath("/abs/db.sqlite", { INIT_CWD: "/elsewhere" })).toBe("/abs/db.sqlite");
    expect(resolveDatabasePath(":memory:", {})).toBe(":memory:");
  });
});
