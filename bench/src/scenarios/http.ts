import { join } from "node:path";
import { type LoadOptions, type LoadResult, measureLoad } from "../load.js";
import { OPERATIONS, type Operation } from "../operations.js";
import { type Comparison, type PlannedScenario, rowsOfPlan } from "../plan.js";
import { REPO_ROOT, type ServerProcess, startServerProcess } from "../processes.js";
import { startBenchRedis } from "../redis-server.js";
import type { Row } from "../report.js";
import type { SeededDatabase } from "../seed.js";

export interface HttpSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Measured rounds per scenario (the scenarios take turns within a round). */
  rounds: number;
  /** The short load a server gets again before each later round (it sat idle while the others ran). */
  rewarmSeconds: number;
}

export const SERVER_MAIN = join(REPO_ROOT, "apps/server/dist/main.js");

/** The server as users run it (`pnpm start`: a built dist), with the bench's settings and `env`'s. */
export function startService(main: string, env: Record<string, string>): Promise<ServerProcess> {
  return startServerProcess([main], {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    HTTP_HANDLER: "fast",
    CREATE_RATE_LIMIT_PER_MINUTE: "0",
    // The revoke scenario measures the service, not the per-key write limit.
    WRITE_RATE_LIMIT_PER_MINUTE: "0",
    ...env,
  });
}

/** The same scenarios on PostgreSQL: a database of the bench's own, seeded from the SQLite one. */
export interface PostgresTwin {
  /** DATABASE_URL of the seeded database. */
  url: string;
  /** DATABASE_POOL_SIZE, when the bench was told one (else the server's default). */
  poolSize?: number;
  /** The tokens it holds, and the subset of the SQLite seed's lists among them. */
  tokens: number;
  seeded: SeededDatabase;
  /** The postmaster, for the database's CPU time; undefined when not visible here. */
  databasePid?: number;
  /** A SQLite path for the server's DATABASE_PATH, which it must not need. */
  unusedSqlitePath: string;
}

/** Another checkout's built server, on a copy of the same seeded database. */
export interface AgainstTwin {
  /** `apps/server/dist/main.js` of that checkout. */
  main: string;
  /** A short name: the checkout's commit. */
  label: string;
  /** A copy of the seeded database, taken before any server wrote to it. */
  copyPath: string;
}

export interface HttpOptions {
  /** Better Auth's getSession, interleaved with verify. */
  peer: boolean;
  postgres?: PostgresTwin;
  /** With `postgres`: also two server processes on that database, the connections spread over both. */
  twoHosts?: boolean;
  against?: AgainstTwin;
  /** This checkout's name in the comparison with `against`. */
  thisLabel?: string;
  /** Only these requests, without the stock adapter and the floor; undefined: everything. */
  operations?: Operation[];
}

/** A creation limit no bench run reaches: the limiter does all its work and never refuses. */
const UNREACHED_LIMIT = "10000000";

interface LoadedScenario extends PlannedScenario {
  load: Omit<LoadOptions, "connections" | "durationSeconds" | "warmupSeconds">;
}

const post = (secretKey: string, body: string) => ({
  method: "POST" as const,
  headers: { "content-type": "application/json", authorization: `Bearer ${secretKey}` },
  body,
});

function operationName(operation: Operation, seeded: SeededDatabase): string {
  switch (operation) {
    case "verify":
      return "verify (valid)";
    case "verify-distinct":
      return `verify (valid, ${seeded.validTokens.length.toLocaleString("en-US")} distinct tokens)`;
    case "verify-revoked":
      return "verify (revoked)";
    case "create":
      return "create";
    case "create-keyed":
      return "create with an Idempotency-Key (as @billingos/node sends)";
    case "revoke":
      return "revoke (distinct tokens)";
  }
}

/** One server's load for an operation; each call makes its own counters (each server its own database). */
function operationLoad(
  operation: Operation,
  server: ServerProcess,
  seeded: SeededDatabase,
  databasePid?: number,
): LoadedScenario["load"] {
  const pids = { serverPid: server.pid, ...(databasePid === undefined ? {} : { databasePid }) };
  const at = (procedure: string) => `${server.url}/trpc/sessionTokens.${procedure}`;
  const valid = seeded.validTokens;
  const revocable = seeded.revocableTokenIds;
  let next = 0;
  switch (operation) {
    case "verify":
      return { url: at("verify"), ...post(seeded.secretKey, JSON.stringify({ sessionToken: valid[0] })), ...pids };
    case "verify-distinct":
      // Each request a different one of the known tokens (a million stored): the index pages
      // touched are not all hot, as with many customers' sessions at once.
      return {
        url: at("verify"),
        ...post(seeded.secretKey, ""),
        ...pids,
        nextBody: () => JSON.stringify({ sessionToken: valid[next++ % valid.length] }),
      };
    case "verify-revoked":
      return {
        url: at("verify"),
        ...post(seeded.secretKey, JSON.stringify({ sessionToken: seeded.revokedToken })),
        ...pids,
      };
    case "create":
      return {
        url: at("create"),
        ...post(seeded.secretKey, JSON.stringify({ externalUserId: "user_bench", email: "nobody@bench.example" })),
        ...pids,
      };
    case "create-keyed":
      // A fresh key on every call, as the node client generates one per mutation.
      return {
        url: at("create"),
        ...post(seeded.secretKey, JSON.stringify({ externalUserId: "user_bench", email: "nobody@bench.example" })),
        ...pids,
        nextHeaders: () => ({ "idempotency-key": `bench_${process.pid}_${next++}` }),
      };
    case "revoke":
      return {
        url: at("revoke"),
        ...post(seeded.secretKey, ""),
        ...pids,
        nextBody: () => JSON.stringify({ tokenId: revocable[next++ % revocable.length] }),
      };
  }
}

const BASELINE = "baseline: bare node:http, small JSON";
const SQLITE_TARGETS: Partial<Record<Operation, string>> = { verify: "≥ 50%, p99 ≤ 10 ms", create: "≥ 25%" };
/** Issue 11: PostgreSQL at least half of SQLite for verify and create. */
const POSTGRES_TARGETS: Partial<Record<Operation, string>> = { verify: "≥ 50%", create: "≥ 50%" };
/** The storage seam must not make SQLite slower: within 5% of the checkout before it. */
const AGAINST_TARGET = "≥ 95%";

/**
 * Every server is started once and kept running; each scenario is warmed up, then measured in
 * `rounds` rounds that take the scenarios in turn (each warmed again briefly first). A scenario's
 * twins (PostgreSQL, another checkout, the peer) come right after it in each round, so a comparison
 * sets side by side figures taken seconds apart. A row reports the medians over the rounds; its
 * ratios are the medians of the per-round ratios to its reference measured in the same round (the
 * machine's load drifts between rounds, much less within one).
 */
export async function httpScenarios(
  seeded: SeededDatabase,
  settings: HttpSettings,
  options: HttpOptions,
): Promise<Row[]> {
  const servers: ServerProcess[] = [];
  const stoppers: (() => Promise<void>)[] = [];
  const start = async (server: Promise<ServerProcess>) => {
    const started = await server;
    servers.push(started);
    return started;
  };
  try {
    const everything = options.operations === undefined;
    const baseline = await start(startServerProcess(["--import", "tsx", "bench/src/servers/baseline-server.ts"]));
    const stock = everything
      ? await start(startService(SERVER_MAIN, { DATABASE_PATH: seeded.path, HTTP_HANDLER: "stock" }))
      : undefined;
    // The same handler and tRPC around a procedure of verify's shape that does none of its work.
    const floor = everything
      ? await start(startServerProcess(["--import", "tsx", "bench/src/servers/trpc-floor-server.ts"]))
      : undefined;
    const service = await start(startService(SERVER_MAIN, { DATABASE_PATH: seeded.path }));
    const { postgres, against } = options;
    const postgresServer = postgres
      ? await start(
          startService(SERVER_MAIN, {
            DATABASE_URL: postgres.url,
            DATABASE_PATH: postgres.unusedSqlitePath,
            ...(postgres.poolSize === undefined ? {} : { DATABASE_POOL_SIZE: String(postgres.poolSize) }),
          }),
        )
      : undefined;
    const startPostgresServer = (database: PostgresTwin) =>
      start(
        startService(SERVER_MAIN, {
          DATABASE_URL: database.url,
          DATABASE_PATH: database.unusedSqlitePath,
          ...(database.poolSize === undefined ? {} : { DATABASE_POOL_SIZE: String(database.poolSize) }),
        }),
      );
    const secondPostgresServer = postgres && options.twoHosts ? await startPostgresServer(postgres) : undefined;
    // Token creation with each rate-limit engine (the plain create row runs with none): what a
    // limiter costs a creation. The Redis server's CPU goes in the database column.
    const creates = (options.operations ?? OPERATIONS).includes("create");
    const redis = creates ? await startBenchRedis() : undefined;
    if (redis) stoppers.push(redis.stop);
    const limited = (env: Record<string, string>) =>
      startService(SERVER_MAIN, { CREATE_RATE_LIMIT_PER_MINUTE: UNREACHED_LIMIT, ...env });
    const limiterServers = creates
      ? {
          memory: await start(limited({ DATABASE_PATH: seeded.path, RATE_LIMIT_STORE: "memory" })),
          database: await start(limited({ DATABASE_PATH: seeded.path, RATE_LIMIT_STORE: "database" })),
          redis: redis ? await start(limited({ DATABASE_PATH: seeded.path, RATE_LIMIT_URL: redis.url })) : undefined,
          postgres: postgres
            ? await start(
                limited({
                  DATABASE_URL: postgres.url,
                  DATABASE_PATH: postgres.unusedSqlitePath,
                  RATE_LIMIT_STORE: "database",
                  ...(postgres.poolSize === undefined ? {} : { DATABASE_POOL_SIZE: String(postgres.poolSize) }),
                }),
              )
            : undefined,
        }
      : undefined;
    const againstServer = against
      ? await start(startService(against.main, { DATABASE_PATH: against.copyPath }))
      : undefined;
    const peer = options.peer
      ? await start(
          startServerProcess(["--import", "tsx", "bench/src/servers/better-auth-server.ts"], {
            PORT: "0",
            BETTER_AUTH_DB: `${seeded.path}.better-auth.sqlite`,
          }),
        )
      : undefined;

    const verifyValid = JSON.stringify({ sessionToken: seeded.validTokens[0] });
    const scenarios: LoadedScenario[] = [{ name: BASELINE, load: { url: baseline.url, serverPid: baseline.pid } }];
    if (stock) {
      scenarios.push({
        name: "stock adapter: verify (valid), tRPC createHTTPHandler",
        reference: BASELINE,
        load: {
          url: `${stock.url}/trpc/sessionTokens.verify`,
          ...post(seeded.secretKey, verifyValid),
          serverPid: stock.pid,
        },
      });
    }
    if (floor) {
      scenarios.push({
        name: "floor: verify-shaped no-op procedure, same handler and tRPC",
        reference: BASELINE,
        load: {
          url: `${floor.url}/trpc/sessionTokens.verify`,
          ...post(seeded.secretKey, verifyValid),
          serverPid: floor.pid,
        },
      });
    }
    const comparisons: Comparison[] = [];
    const thisLabel = options.thisLabel ?? "this build";
    for (const operation of options.operations ?? OPERATIONS) {
      const name = `service over HTTP: ${operationName(operation, seeded)}`;
      scenarios.push({
        name,
        reference: BASELINE,
        target: SQLITE_TARGETS[operation],
        load: operationLoad(operation, service, seeded),
      });
      if (postgresServer && postgres) {
        const twin = `PostgreSQL over HTTP: ${operationName(operation, postgres.seeded)}`;
        scenarios.push({
          name: twin,
          reference: BASELINE,
          load: operationLoad(operation, postgresServer, postgres.seeded, postgres.databasePid),
        });
        comparisons.push({
          name: `PostgreSQL vs SQLite: ${operationName(operation, postgres.seeded)}`,
          subject: twin,
          reference: name,
          referenceLabel: "SQLite, same round",
          target: POSTGRES_TARGETS[operation],
        });
      }
      if (postgresServer && secondPostgresServer && postgres) {
        const oneHost = `PostgreSQL over HTTP: ${operationName(operation, postgres.seeded)}`;
        const twoHosts = `PostgreSQL, two hosts over HTTP: ${operationName(operation, postgres.seeded)}`;
        const [first, second] = [postgresServer, secondPostgresServer].map((server) =>
          operationLoad(operation, server, postgres.seeded, postgres.databasePid),
        );
        scenarios.push({
          name: twoHosts,
          reference: BASELINE,
          load: {
            ...first!,
            url: [first!.url as string, second!.url as string],
            moreServerPids: [secondPostgresServer.pid],
          },
        });
        comparisons.push({
          name: `PostgreSQL two hosts vs one: ${operationName(operation, postgres.seeded)}`,
          subject: twoHosts,
          reference: oneHost,
          referenceLabel: "one host, same round",
        });
      }
      if (againstServer && against) {
        const twin = `${against.label} over HTTP: ${operationName(operation, seeded)}`;
        scenarios.push({ name: twin, reference: BASELINE, load: operationLoad(operation, againstServer, seeded) });
        comparisons.push({
          name: `${thisLabel} vs ${against.label} (SQLite): ${operationName(operation, seeded)}`,
          subject: name,
          reference: twin,
          referenceLabel: `${against.label}, same round`,
          target: AGAINST_TARGET,
        });
      }
      if (operation === "create" && limiterServers) {
        const engines: [string, ServerProcess | undefined, number | undefined][] = [
          ["memory rate limiter", limiterServers.memory, undefined],
          ["database rate limiter (SQLite)", limiterServers.database, undefined],
          ["Redis rate limiter", limiterServers.redis, redis?.pid],
        ];
        for (const [engine, server, pid] of engines) {
          if (server === undefined) continue;
          const twin = `service over HTTP: create, ${engine}`;
          scenarios.push({ name: twin, reference: BASELINE, load: operationLoad(operation, server, seeded, pid) });
          comparisons.push({
            name: `create with the ${engine} vs none`,
            subject: twin,
            reference: name,
            referenceLabel: "no limiter, same round",
          });
        }
        if (limiterServers.postgres && postgres) {
          const twin = `PostgreSQL over HTTP: create, database rate limiter`;
          scenarios.push({
            name: twin,
            reference: BASELINE,
            load: operationLoad(operation, limiterServers.postgres, postgres.seeded, postgres.databasePid),
          });
          comparisons.push({
            name: `PostgreSQL create with the database rate limiter vs none`,
            subject: twin,
            reference: `PostgreSQL over HTTP: ${operationName(operation, postgres.seeded)}`,
            referenceLabel: "PostgreSQL, no limiter, same round",
          });
        }
      }
      if (operation === "verify" && peer) {
        const peerName = "peer: Better Auth getSession (bearer)";
        scenarios.push({
          name: peerName,
          reference: BASELINE,
          load: {
            url: `${peer.url}/session`,
            headers: { authorization: `Bearer ${String(peer.firstLine.token)}` },
            serverPid: peer.pid,
          },
        });
        comparisons.unshift({
          name: "verify vs Better Auth getSession",
          subject: name,
          reference: peerName,
          referenceLabel: "Better Auth",
          target: "≥ 300%",
        });
      }
    }

    const measure = (scenario: LoadedScenario, durationSeconds: number) =>
      measureLoad({ ...scenario.load, connections: settings.connections, durationSeconds, warmupSeconds: 0 });
    if (settings.warmupSeconds > 0) {
      for (const scenario of scenarios) await measure(scenario, settings.warmupSeconds);
    }
    const results = new Map<string, LoadResult[]>(scenarios.map((scenario) => [scenario.name, []]));
    for (let round = 0; round < settings.rounds; round++) {
      for (const scenario of scenarios) {
        // A server idle while the others were measured is warmed again first: V8 may have let
        // some of its compiled code go in the meantime.
        if (round > 0 && settings.rewarmSeconds > 0) await measure(scenario, settings.rewarmSeconds);
        results.get(scenario.name)!.push(await measure(scenario, settings.durationSeconds));
      }
    }
    return rowsOfPlan(scenarios, comparisons, results);
  } finally {
    for (const server of servers) await server.stop();
    for (const stop of stoppers) await stop();
  }
}
