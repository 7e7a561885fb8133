import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { describe } from "vitest";
import { firstThisRun } from "./once-per-run.js";

/**
 * A real redis-server per test file, started from Debian's package (`apt-get install -y
 * redis-server`; REDIS_SERVER names another binary), with nothing saved to disk, on a free local
 * port: a test can kill it and start it again on the same port, as an outage would.
 */

const HOW_TO_RUN =
  "Redis suites skipped: no redis-server on PATH; install it (`apt-get install -y redis-server`) or set REDIS_SERVER to its path";

const binary = () => process.env.REDIS_SERVER ?? "redis-server";

let available: boolean | undefined;

/** Whether redis-server can be run here (asked once per worker). */
export function redisServerAvailable(): boolean {
  available ??= spawnSync(binary(), ["--version"], { stdio: "ignore" }).status === 0;
  return available;
}

/**
 * `describe` when redis-server can be run; otherwise `describe.skip` after one line saying how to
 * run the suite. Under CI (the CI variable set) a missing redis-server fails the file instead: a
 * pipeline must not pass by skipping the shared limiter it is meant to test.
 */
export function describeWithRedis(): typeof describe | typeof describe.skip {
  if (redisServerAvailable()) return describe;
  if (process.env.CI)
    throw new Error(
      "redis-server is required under CI and cannot be run (apt-get install -y redis-server, or set REDIS_SERVER)",
    );
  if (firstThisRun("redis-skipped")) console.warn(HOW_TO_RUN);
  return describe.skip;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestRedisServer {
  readonly port: number;
  readonly url: string;
  /** A plain client of its own, to look at what the limiter stored. */
  inspect(): Redis;
  /** SIGKILL: the server vanishes at once, its data with it (nothing is saved). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function untilAnswers(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    probe.on("error", () => {});
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      probe.disconnect();
    }
  }
}

export async function startRedisServer(): Promise<TestRedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const inspectors: Redis[] = [];
  const start = async () => {
    child = spawn(binary(), ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    await untilAnswers(port);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGKILL");
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    inspect: () => {
      const client = new Redis({ port, host: "127.0.0.1" });
      client.on("error", () => {});
      inspectors.push(client);
      return client;
    },
    kill,
    restart: start,
    stop: async () => {
      for (const client of inspectors) client.disconnect();
      await kill();
    },
  };
}
