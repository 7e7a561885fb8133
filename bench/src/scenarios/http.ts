import { join } from "node:path";
import { median } from "../in-process.js";
import { type LoadOptions, type LoadResult, measureLoad } from "../load.js";
import { REPO_ROOT, type ServerProcess, startServerProcess } from "../processes.js";
import type { Row } from "../report.js";
import type { SeededDatabase } from "../seed.js";

export interface HttpSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Measured rounds per scenario (the scenarios take turns within a round). */
  rounds: number;
}

const SERVER_MAIN = join(REPO_ROOT, "apps/server/dist/main.js");

/** The server as users run it (`pnpm start`: the built dist), on the seeded database. */
function startService(seeded: SeededDatabase, handler: "fast" | "stock"): Promise<ServerProcess> {
  return startServerProcess([SERVER_MAIN], {
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_PATH: seeded.path,
    LOG_LEVEL: "info",
    HTTP_HANDLER: handler,
    CREATE_RATE_LIMIT_PER_MINUTE: "0",
    // The revoke scenario measures the service, not the per-key write limit.
    WRITE_RATE_LIMIT_PER_MINUTE: "0",
  });
}

const post = (seeded: SeededDatabase, body: string) => ({
  method: "POST" as const,
  headers: { "content-type": "application/json", authorization: `Bearer ${seeded.secretKey}` },
  body,
});

/** Better Auth's getSession under the same load, against the same baseline figure. */
export async function peerScenario(workdir: string, settings: HttpSettings, baseline: Row): Promise<Row> {
  const betterAuth = await startServerProcess(["--import", "tsx", "bench/src/servers/better-auth-server.ts"], {
    PORT: "0",
    BETTER_AUTH_DB: `${workdir}/better-auth.sqlite`,
  });
  const peer = await measureLoad({
    url: `${betterAuth.url}/session`,
    headers: { authorization: `Bearer ${String(betterAuth.firstLine.token)}` },
    serverPid: betterAuth.pid,
    ...settings,
  });
  await betterAuth.stop();
  return rowOf("peer: Better Auth getSession (bearer)", [peer], [baseline.throughput]);
}

/**
 * A scenario's row from its rounds: medians over the rounds; the ratio, when baseline rates are
 * given (one per round), is the median of the per-round ratios to the baseline named `baselineName`.
 */
export function rowOf(
  scenario: string,
  rounds: LoadResult[],
  baselineRates?: number[],
  target?: string,
  baselineName = "baseline",
): Row {
  const cpu = rounds.flatMap((result) => (result.serverCpuMicrosPerRequest === undefined ? [] : [result.serverCpuMicrosPerRequest]));
  return {
    scenario,
    throughput: median(rounds.map((result) => result.requestsPerSecond)),
    unit: "req/s",
    p50Ms: median(rounds.map((result) => result.p50)),
    p99Ms: median(rounds.map((result) => result.p99)),
    ...(cpu.length > 0 ? { serverCpuMicros: median(cpu) } : {}),
    ...(baselineRates
      ? { baseline: baselineName, ratio: median(rounds.map((result, round) => result.requestsPerSecond / baselineRates[round]!)) }
      : {}),
    ...(target ? { target } : {}),
    errors: rounds.reduce((sum, result) => sum + result.errors + result.non2xx, 0),
  };
}

interface HttpScenario {
  scenario: string;
  target?: string;
  load: Omit<LoadOptions, "connections" | "durationSeconds" | "warmupSeconds">;
}

/** The short load a server gets again before each later round. */
const REWARM_SECONDS = 1;

/**
 * Every server is started once and kept running; each scenario is warmed up, then measured in
 * `rounds` rounds that take the scenarios in turn (each warmed again for a second first), so that each ratio compares figures taken minutes
 * apart at most. A row reports the medians over the rounds; its ratio is the median of the
 * per-round ratios to the baseline measured in the same round (the machine's load drifts between
 * rounds, much less within one).
 */
export async function httpScenarios(seeded: SeededDatabase, settings: HttpSettings): Promise<Row[]> {
  const servers: ServerProcess[] = [];
  const start = async (server: Promise<ServerProcess>) => {
    const started = await server;
    servers.push(started);
    return started;
  };
  try {
    const baseline = await start(startServerProcess(["--import", "tsx", "bench/src/servers/baseline-server.ts"]));
    const stock = await start(startService(seeded, "stock"));
    // The same handler and tRPC around a procedure of verify's shape that does none of its work.
    const floor = await start(startServerProcess(["--import", "tsx", "bench/src/servers/trpc-floor-server.ts"]));
    const service = await start(startService(seeded, "fast"));

    const verifyValid = JSON.stringify({ sessionToken: seeded.validTokens[0] });
    const valid = seeded.validTokens;
    const revocable = seeded.revocableTokenIds;
    let nextValid = 0;
    let nextRevocable = 0;
    const scenarios: HttpScenario[] = [
      { scenario: "baseline: bare node:http, small JSON", load: { url: baseline.url, serverPid: baseline.pid } },
      {
        scenario: "stock adapter: verify (valid), tRPC createHTTPHandler",
        load: { url: `${stock.url}/trpc/sessionTokens.verify`, ...post(seeded, verifyValid), serverPid: stock.pid },
      },
      {
        scenario: "floor: verify-shaped no-op procedure, same handler and tRPC",
        load: { url: `${floor.url}/trpc/sessionTokens.verify`, ...post(seeded, verifyValid), serverPid: floor.pid },
      },
      {
        scenario: "service over HTTP: verify (valid)",
        target: "≥ 50%, p99 ≤ 10 ms",
        load: { url: `${service.url}/trpc/sessionTokens.verify`, ...post(seeded, verifyValid), serverPid: service.pid },
      },
      {
        // Each request a different one of the known tokens (a million stored): the index pages
        // touched are not all hot, as with many customers' sessions at once.
        scenario: `service over HTTP: verify (valid, ${valid.length.toLocaleString("en-US")} distinct tokens)`,
        load: {
          url: `${service.url}/trpc/sessionTokens.verify`,
          ...post(seeded, ""),
          serverPid: service.pid,
          nextBody: () => JSON.stringify({ sessionToken: valid[nextValid++ % valid.length] }),
        },
      },
      {
        scenario: "service over HTTP: verify (revoked)",
        load: {
          url: `${service.url}/trpc/sessionTokens.verify`,
          ...post(seeded, JSON.stringify({ sessionToken: seeded.revokedToken })),
          serverPid: service.pid,
        },
      },
      {
        scenario: "service over HTTP: create",
        target: "≥ 25%",
        load: {
          url: `${service.url}/trpc/sessionTokens.create`,
          ...post(seeded, JSON.stringify({ externalUserId: "user_bench", email: "nobody@bench.example" })),
          serverPid: service.pid,
        },
      },
      {
        scenario: "service over HTTP: revoke (distinct tokens)",
        load: {
          url: `${service.url}/trpc/sessionTokens.revoke`,
          ...post(seeded, ""),
          serverPid: service.pid,
          nextBody: () => JSON.stringify({ tokenId: revocable[nextRevocable++ % revocable.length] }),
        },
      },
    ];

    const measure = (scenario: HttpScenario, durationSeconds: number) =>
      measureLoad({ ...scenario.load, connections: settings.connections, durationSeconds, warmupSeconds: 0 });
    if (settings.warmupSeconds > 0) {
      for (const scenario of scenarios) await measure(scenario, settings.warmupSeconds);
    }
    const results = scenarios.map(() => [] as LoadResult[]);
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, scenario] of scenarios.entries()) {
        // A server idle while the others were measured is warmed again first: V8 may have let
        // some of its compiled code go in the meantime.
        if (round > 0) await measure(scenario, REWARM_SECONDS);
        results[index]!.push(await measure(scenario, settings.durationSeconds));
      }
    }

    const baselineRates = results[0]!.map((result) => result.requestsPerSecond);
    return scenarios.map((scenario, index) =>
      rowOf(scenario.scenario, results[index]!, index === 0 ? undefined : baselineRates, scenario.target),
    );
  } finally {
    for (const server of servers) await server.stop();
  }
}
