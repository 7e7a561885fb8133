import cluster from "node:cluster";
import { createDevelopmentKeyIfEmpty, developmentKeyBanner } from "./api-keys/development-key.js";
import { runsRetentionPurge, superviseWorkers } from "./cluster/workers.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { startHttpServer } from "./http/http-server.js";
import { openRateLimiters } from "./rate-limits/open-rate-limiters.js";
import { schedulePurge } from "./session-tokens/session-tokens.retention.js";
import { systemClock } from "./shared/clock.js";
import type { Logger } from "./shared/logger.js";
import { createLogger } from "./shared/logger.js";
import { openStore } from "./store/open-store.js";
import type { Store } from "./store/store.js";
import { StoreOpenError } from "./store/store-open-error.js";

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/** The configured store, migrated; one line and exit 1 if it cannot be opened. */
async function openStoreOrExit(config: Config, logger: Logger): Promise<Store> {
  try {
    return await openStore({
      databaseUrl: config.databaseUrl,
      databasePath: config.databasePath,
      poolSize: config.databasePoolSize,
      keyCache: config.postgresKeyCache,
      onIdleClientError: (error) =>
        logger.warn({ err: error }, "an idle database connection was lost; the pool opens a new one when needed"),
    });
  } catch (error) {
    if (!(error instanceof StoreOpenError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  const clock = systemClock;
  const store = await openStoreOrExit(config, logger);

  // In a worker (WORKERS > 1) the primary has done both: the database is migrated and not empty.
  const developmentKey = await createDevelopmentKeyIfEmpty(store, clock);
  if (developmentKey) process.stdout.write(`${developmentKeyBanner(developmentKey)}\n`);
  if (config.workers > 1 && cluster.isPrimary) {
    await store.close();
    superviseWorkers({ count: config.workers, logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
    return;
  }

  const rateLimiters = await openRateLimiters(config, { store, clock, logger });

  const retention = { tokenRetentionMs: config.tokenRetentionMs, auditRetentionMs: config.auditRetentionMs };
  const stopPurge = runsRetentionPurge() ? schedulePurge({ store, clock, logger }, retention) : () => {};
  let server: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    server = await startHttpServer({
      deps: {
        store,
        clock,
        logger,
        environments: config.environments,
        createRateLimiter: rateLimiters.createRateLimiter,
        lazyBindingRequiresVerifiedEmail: config.lazyBindingRequiresVerifiedEmail,
        importRateLimiter: rateLimiters.importRateLimiter,
        writeRateLimiter: rateLimiters.writeRateLimiter,
      },
      port: config.port,
      host: config.host,
      corsOrigins: config.corsOrigins,
      maxBodyBytes: config.maxBodyBytes,
      maxBatchSize: config.maxBatchSize,
      maxConnections: config.maxConnections,
      maxBufferedBodyBytes: config.maxBufferedBodyBytes,
      maxBufferedBodyBytesPerTenant: config.maxBufferedBodyBytesPerTenant,
      maxConnectionsPerAddress: config.maxConnectionsPerAddress,
      handler: config.httpHandler,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    console.error(
      code === "EADDRINUSE"
        ? `Port ${config.port} is already in use; set PORT to a free port`
        : `Could not listen on port ${config.port}: ${(error as Error).message}`,
    );
    await rateLimiters.close();
    await store.close();
    process.exit(1);
  }
  logger.info(
    {
      url: server.url,
      engine: store.engine,
      rateLimitStore: config.rateLimitStore,
      ...(store.engine === "sqlite" ? { databasePath: config.databasePath } : {}),
    },
    "BillingOS session-token service listening",
  );
  if (isLoopback(config.host)) {
    logger.info(
      { host: config.host },
      `listening on ${config.host} only: other machines cannot connect; set HOST=0.0.0.0 to listen on every interface`,
    );
  } else {
    logger.info({ host: config.host }, `listening on ${config.host}: reachable from other machines on that address`);
  }

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing requests in flight");
    await server.close(config.shutdownTimeoutMs);
    stopPurge();
    await rateLimiters.close();
    // Closing the database checkpoints the WAL into the main file.
    await store.close();
    logger.info("stopped cleanly");
    process.exit(0);
  };
  // Kept listening after the first signal: Ctrl-C reaches the server twice under `pnpm start` (from
  // the terminal, and relayed by pnpm), and a second one must not cut the shutdown short.
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
