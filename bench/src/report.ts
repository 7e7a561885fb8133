export interface Row {
  scenario: string;
  /** Requests/s over HTTP, calls/s in process. */
  throughput: number;
  unit: "req/s" | "calls/s";
  p50Ms?: number;
  p99Ms?: number;
  /** HTTP scenarios: the server process's CPU time per request (user + system), microseconds. */
  serverCpuMicros?: number;
  /** What the ratio is against, measured in the same run. */
  baseline?: string;
  ratio?: number;
  target?: string;
  errors?: number;
}

const fmt = (value: number | undefined, digits = 0) =>
  value === undefined ? "" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The run as a Markdown table (BENCHMARKS.md takes it as is). */
export function markdownTable(rows: Row[]): string {
  const header = "| scenario | throughput | p50 ms | p99 ms | server CPU µs/req | ratio | against | target | errors |";
  const rule = "|---|---:|---:|---:|---:|---:|---|---|---:|";
  const lines = rows.map(
    (row) =>
      `| ${row.scenario} | ${fmt(row.throughput)} ${row.unit} | ${fmt(row.p50Ms, 1)} | ${fmt(row.p99Ms, 1)} | ${fmt(row.serverCpuMicros, 0)} | ${
        row.ratio === undefined ? "" : `${fmt(row.ratio * 100, 0)}%`
      } | ${row.baseline ?? ""} | ${row.target ?? ""} | ${row.errors ?? ""} |`,
  );
  return [header, rule, ...lines].join("\n");
}
