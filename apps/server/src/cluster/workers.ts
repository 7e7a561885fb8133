import cluster, { type Worker } from "node:cluster";
import type { Logger } from "../shared/logger.js";

/** In a worker's environment: "1" for the one worker that runs the hourly retention purge. */
const PURGER_ENV = "BILLINGOS_PURGER";
/** A worker that dies sooner than this after it started counts toward a crash loop. */
const QUICK_DEATH_MS = 5_000;
/** This many quick deaths in a row: the workers cannot start (a bad setting, a full disk); give up. */
const MAX_QUICK_DEATHS = 5;
/** Past the workers' own shutdown bound, what is still running is killed. */
const KILL_GRACE_MS = 5_000;

/** Whether this process runs the retention purge: alone, or the one worker chosen for it. */
export function runsRetentionPurge(): boolean {
  return cluster.isPrimary || process.env[PURGER_ENV] === "1";
}

export interface WorkerSettings {
  count: number;
  logger: Logger;
  /** SHUTDOWN_TIMEOUT_MS: how long each worker may take to finish its requests on SIGTERM. */
  shutdownTimeoutMs: number;
}

/**
 * WORKERS=N: this (primary) process serves nothing itself; it runs N copies of the server, which
 * share one listening socket (node:cluster hands each new connection to one of them), replaces a
 * worker that dies, and on SIGTERM or SIGINT has every worker finish its requests and stop, then
 * exits. Migrations and the development key are done before this is called, once. One worker runs
 * the retention purge (its replacement takes over the role).
 */
export function superviseWorkers({ count, logger, shutdownTimeoutMs }: WorkerSettings): void {
  const roles = new Map<Worker, { purger: boolean; startedAt: number }>();
  let stopping = false;
  let quickDeaths = 0;
  let failed = false;

  const fork = (purger: boolean) => {
    const worker = cluster.fork({ [PURGER_ENV]: purger ? "1" : "0" });
    roles.set(worker, { purger, startedAt: Date.now() });
  };

  cluster.on("exit", (worker, code, signal) => {
    const role = roles.get(worker);
    roles.delete(worker);
    if (stopping) {
      if (code !== 0) failed = true;
      if (roles.size === 0) {
        logger.info("all workers stopped");
        process.exit(failed ? 1 : 0);
      }
      return;
    }
    const quick = role !== undefined && Date.now() - role.startedAt < QUICK_DEATH_MS;
    quickDeaths = quick ? quickDeaths + 1 : 0;
    if (quickDeaths >= MAX_QUICK_DEATHS) {
      logger.error(
        { code, signal },
        `workers keep dying right after they start (${MAX_QUICK_DEATHS} in a row); stopping`,
      );
      stopping = true;
      failed = true;
      for (const other of roles.keys()) other.process.kill("SIGTERM");
      if (roles.size === 0) process.exit(1);
      return;
    }
    logger.warn({ pid: worker.process.pid, code, signal }, "a worker died; starting another in its place");
    fork(role?.purger ?? false);
  });

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: roles.size }, "shutting down: every worker finishes its requests in flight");
    for (const worker of roles.keys()) worker.process.kill("SIGTERM");
    setTimeout(() => {
      for (const worker of roles.keys()) worker.process.kill("SIGKILL");
    }, shutdownTimeoutMs + KILL_GRACE_MS).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);

  for (let i = 0; i < count; i++) fork(i === 0);
  logger.info({ workers: count }, "started the server workers");
}
