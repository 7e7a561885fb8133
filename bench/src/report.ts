export interface Row {
  scenario: string;
  /** Requests/s over HTTP, calls/s in process. */
  throughput: number;
  unit: "req/s" | "calls/s";
  p50Ms?: number;
  p99Ms?: number;
  /** HTTP scenarios: the server process's CPU time per request (user + system), microseconds. */
  serverCpuMicros?: number;
  /** PostgreSQL scenarios: the database server's CPU time per request (postmaster and children), microseconds. */
  databaseCpuMicros?: number;
  /** What the ratios are against, measured in the same run. */
  baseline?: string;
  /**
   * The headline ratio over HTTP: the baseline's CPU time per request over this one's (server plus
   * database), so that, like the throughput ratio, above 100% means cheaper than the baseline.
   */
  cpuRatio?: number;
  /** Throughput over the baseline's. */
  ratio?: number;
  target?: string;
  errors?: number;
  /** HTTP scenarios: each round's figures, in the run's JSON only (the medians above come from them). */
  rounds?: { requestsPerSecond: number; serverCpuMicros?: number; databaseCpuMicros?: number }[];
}

const fmt = (value: number | undefined, digits = 0) =>
  value === undefined
    ? ""
    : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const percent = (value: number | undefined) => (value === undefined ? "" : `${fmt(value * 100, 0)}%`);

/** The run as a Markdown table (BENCHMARKS.md takes it as is). */
export function markdownTable(rows: Row[]): string {
  const header =
    "| scenario | throughput | p50 ms | p99 ms | server CPU µs/req | database CPU µs/req | CPU ratio | throughput ratio | against | target | errors |";
  const rule = "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|";
  const lines = rows.map(
    (row) =>
      `| ${row.scenario} | ${fmt(row.throughput)} ${row.unit} | ${fmt(row.p50Ms, 1)} | ${fmt(row.p99Ms, 1)} | ${fmt(row.serverCpuMicros, 0)} | ${fmt(
        row.databaseCpuMicros,
        0,
      )} | ${percent(row.cpuRatio)} | ${percent(row.ratio)} | ${row.baseline ?? ""} | ${row.target ?? ""} | ${row.errors ?? ""} |`,
  );
  return [header, rule, ...lines].join("\n");
}
