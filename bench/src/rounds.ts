import { median } from "./in-process.js";
import type { LoadResult } from "./load.js";
import type { Row } from "./report.js";

/** CPU time a request cost the machine: the server's, plus the database server's when it is a process of its own. */
export function totalCpuMicros(result: LoadResult): number | undefined {
  if (result.serverCpuMicrosPerRequest === undefined) return undefined;
  return result.serverCpuMicrosPerRequest + (result.databaseCpuMicrosPerRequest ?? 0);
}

function defined(values: (number | undefined)[]): number[] {
  return values.filter((value): value is number => value !== undefined);
}

/**
 * The medians of the per-round ratios of `rounds` to `reference` (measured in the same rounds, round
 * by round): throughput over the reference's, and the reference's CPU per request over this one's.
 * Per round, so that the machine's drift between rounds does not enter them.
 */
export function perRoundRatios(rounds: LoadResult[], reference: LoadResult[]): { ratio: number; cpuRatio?: number } {
  const ratio = median(rounds.map((result, round) => result.requestsPerSecond / reference[round]!.requestsPerSecond));
  const cpuRatios = defined(
    rounds.map((result, round) => {
      const mine = totalCpuMicros(result);
      const theirs = totalCpuMicros(reference[round]!);
      return mine === undefined || theirs === undefined || mine === 0 ? undefined : theirs / mine;
    }),
  );
  return cpuRatios.length === rounds.length ? { ratio, cpuRatio: median(cpuRatios) } : { ratio };
}

/**
 * A scenario's row from its rounds: medians over the rounds; ratios, when a reference's rounds are
 * given (measured in the same rounds), to that reference, which the row names.
 */
export function rowFromRounds(
  scenario: string,
  rounds: LoadResult[],
  reference?: { name: string; rounds: LoadResult[] },
  target?: string,
): Row {
  const serverCpu = defined(rounds.map((result) => result.serverCpuMicrosPerRequest));
  const databaseCpu = defined(rounds.map((result) => result.databaseCpuMicrosPerRequest));
  return {
    scenario,
    throughput: median(rounds.map((result) => result.requestsPerSecond)),
    unit: "req/s",
    p50Ms: median(rounds.map((result) => result.p50)),
    p99Ms: median(rounds.map((result) => result.p99)),
    ...(serverCpu.length > 0 ? { serverCpuMicros: median(serverCpu) } : {}),
    ...(databaseCpu.length > 0 ? { databaseCpuMicros: median(databaseCpu) } : {}),
    ...(reference ? { baseline: reference.name, ...perRoundRatios(rounds, reference.rounds) } : {}),
    ...(target ? { target } : {}),
    errors: rounds.reduce((sum, result) => sum + result.errors + result.non2xx, 0),
    rounds: rounds.map((result) => ({
      requestsPerSecond: result.requestsPerSecond,
      ...(result.serverCpuMicrosPerRequest === undefined
        ? {}
        : { serverCpuMicros: Math.round(result.serverCpuMicrosPerRequest * 10) / 10 }),
      ...(result.databaseCpuMicrosPerRequest === undefined
        ? {}
        : { databaseCpuMicros: Math.round(result.databaseCpuMicrosPerRequest * 10) / 10 }),
    })),
  };
}
