import autocannon from "autocannon";
import { cpuBetween, processCpuMicros, processTreeCpu } from "./process-cpu.js";

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
  /** The server's CPU time per request during the measured run (not the warm-up), when its pid is known. */
  serverCpuMicrosPerRequest?: number;
  /** The database server's CPU time per request (PostgreSQL's postmaster and all its children), when visible here. */
  databaseCpuMicrosPerRequest?: number;
}

export interface LoadOptions {
  /** Several: the connections are spread over them in turn (several hosts behind a balancer). */
  url: string | string[];
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Per-request body, for calls that must differ (revoking distinct tokens). */
  nextBody?: () => string;
  /** Per-request headers beside `headers` (a fresh Idempotency-Key on each call). */
  nextHeaders?: () => Record<string, string>;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** The server process, to read its CPU time around the measured run. */
  serverPid?: number;
  /** More server processes whose CPU time counts too (the other hosts of `url`). */
  moreServerPids?: number[];
  /** A database server's main process (PostgreSQL's postmaster), to read its and its children's CPU time too. */
  databasePid?: number;
}

function run(options: LoadOptions, durationSeconds: number): Promise<autocannon.Result> {
  const { nextBody, nextHeaders } = options;
  const perRequest =
    nextBody === undefined && nextHeaders === undefined
      ? {}
      : {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => ({
                ...request,
                ...(nextBody === undefined ? {} : { body: nextBody() }),
                ...(nextHeaders === undefined ? {} : { headers: { ...request.headers, ...nextHeaders() } }),
              }),
            },
          ],
        };
  return autocannon({
    // autocannon spreads connections over an array of URLs; its types know only one.
    url: options.url as string,
    method: options.method ?? "GET",
    headers: options.headers,
    body: options.body,
    connections: options.connections,
    duration: durationSeconds,
    ...perRequest,
  });
}

/** Warms up, then measures: median of the per-second throughput samples, latency percentiles in ms. */
export async function measureLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.warmupSeconds > 0) await run(options, options.warmupSeconds);
  const serverPids = options.serverPid === undefined ? [] : [options.serverPid, ...(options.moreServerPids ?? [])];
  const serverCpu = () =>
    serverPids.length === 0 ? undefined : serverPids.reduce((sum, pid) => sum + (processCpuMicros(pid) ?? 0), 0);
  const cpuBefore = serverCpu();
  const databaseBefore = options.databasePid === undefined ? undefined : processTreeCpu(options.databasePid);
  const result = await run(options, options.durationSeconds);
  const cpuAfter = serverCpu();
  const databaseAfter = options.databasePid === undefined ? undefined : processTreeCpu(options.databasePid);
  const total = result.requests.total;
  return {
    ...(cpuBefore !== undefined && cpuAfter !== undefined && total > 0
      ? { serverCpuMicrosPerRequest: (cpuAfter - cpuBefore) / total }
      : {}),
    ...(databaseBefore !== undefined && databaseAfter !== undefined && total > 0
      ? { databaseCpuMicrosPerRequest: cpuBetween(databaseBefore, databaseAfter) / total }
      : {}),
    requestsPerSecond: result.requests.p50,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}
