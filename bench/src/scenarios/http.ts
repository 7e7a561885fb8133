import { join } from "node:path";
import { measureLoad } from "../load.js";
import { REPO_ROOT, type ServerProcess, startServerProcess } from "../processes.js";
import type { Row } from "../report.js";
import type { SeededDatabase } from "../seed.js";

export interface HttpSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
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
  return {
    scenario: "peer: Better Auth getSession (bearer)",
    throughput: peer.requestsPerSecond,
    unit: "req/s",
    p50Ms: peer.p50,
    p99Ms: peer.p99,
    serverCpuMicros: peer.serverCpuMicrosPerRequest,
    baseline: "baseline",
    ratio: peer.requestsPerSecond / baseline.throughput,
    errors: peer.errors + peer.non2xx,
  };
}

export async function httpScenarios(seeded: SeededDatabase, settings: HttpSettings): Promise<Row[]> {
  const rows: Row[] = [];
  const load = (url: string, extra: Parameters<typeof measureLoad>[0] extends infer O ? Partial<O> : never) =>
    measureLoad({ url, ...settings, ...extra });

  const baselineServer = await startServerProcess(["--import", "tsx", "bench/src/servers/baseline-server.ts"]);
  const baseline = await load(baselineServer.url, { serverPid: baselineServer.pid });
  await baselineServer.stop();
  rows.push({ scenario: "baseline: bare node:http, small JSON", throughput: baseline.requestsPerSecond, unit: "req/s", p50Ms: baseline.p50, p99Ms: baseline.p99, serverCpuMicros: baseline.serverCpuMicrosPerRequest, errors: baseline.errors + baseline.non2xx });
  const vsBaseline = (scenario: string, result: Awaited<ReturnType<typeof measureLoad>>, target?: string): Row => ({
    scenario,
    throughput: result.requestsPerSecond,
    unit: "req/s",
    p50Ms: result.p50,
    p99Ms: result.p99,
    serverCpuMicros: result.serverCpuMicrosPerRequest,
    baseline: "baseline",
    ratio: result.requestsPerSecond / baseline.requestsPerSecond,
    ...(target ? { target } : {}),
    errors: result.errors + result.non2xx,
  });

  const verifyValid = JSON.stringify({ sessionToken: seeded.validTokens[0] });
  const stock = await startService(seeded, "stock");
  rows.push(vsBaseline("stock adapter: verify (valid), tRPC createHTTPHandler", await load(`${stock.url}/trpc/sessionTokens.verify`, { ...post(seeded, verifyValid), serverPid: stock.pid })));
  await stock.stop();

  // The same handler and tRPC around a procedure of verify's shape that does none of its work.
  const floor = await startServerProcess(["--import", "tsx", "bench/src/servers/trpc-floor-server.ts"]);
  rows.push(
    vsBaseline(
      "floor: verify-shaped no-op procedure, same handler and tRPC",
      await load(`${floor.url}/trpc/sessionTokens.verify`, { ...post(seeded, verifyValid), serverPid: floor.pid }),
    ),
  );
  await floor.stop();

  const service = await startService(seeded, "fast");
  const verifyUrl = `${service.url}/trpc/sessionTokens.verify`;
  rows.push(vsBaseline("service over HTTP: verify (valid)", await load(verifyUrl, { ...post(seeded, verifyValid), serverPid: service.pid }), "≥ 50%, p99 ≤ 10 ms"));
  // The same, each request a different one of the 10,000 known tokens (a million stored): index
  // pages are not all hot, as with many customers' sessions at once.
  let nextValid = 0;
  const valid = seeded.validTokens;
  rows.push(
    vsBaseline(
      `service over HTTP: verify (valid, ${valid.length.toLocaleString("en-US")} distinct tokens)`,
      await load(verifyUrl, {
        ...post(seeded, ""),
        serverPid: service.pid,
        nextBody: () => JSON.stringify({ sessionToken: valid[nextValid++ % valid.length] }),
      }),
    ),
  );
  rows.push(
    vsBaseline(
      "service over HTTP: verify (revoked)",
      await load(verifyUrl, { ...post(seeded, JSON.stringify({ sessionToken: seeded.revokedToken })), serverPid: service.pid }),
    ),
  );
  rows.push(
    vsBaseline(
      "service over HTTP: create",
      await load(`${service.url}/trpc/sessionTokens.create`, { ...post(seeded, JSON.stringify({ externalUserId: "user_bench", email: "nobody@bench.example" })), serverPid: service.pid }),
      "≥ 25%",
    ),
  );
  let next = 0;
  const ids = seeded.revocableTokenIds;
  rows.push(
    vsBaseline(
      "service over HTTP: revoke (distinct tokens)",
      await load(`${service.url}/trpc/sessionTokens.revoke`, {
        ...post(seeded, ""),
        serverPid: service.pid,
        nextBody: () => JSON.stringify({ tokenId: ids[next++ % ids.length] }),
      }),
    ),
  );
  await service.stop();

  return rows;
}
