import { describe, expect, it } from "vitest";
import type { LoadResult } from "../src/load.js";
import { type Comparison, type PlannedScenario, rowsOfPlan } from "../src/plan.js";
import { markdownTable } from "../src/report.js";
import { perRoundRatios, totalCpuMicros } from "../src/rounds.js";

const result = (requestsPerSecond: number, serverCpu?: number, databaseCpu?: number): LoadResult => ({
  requestsPerSecond,
  p50: 4,
  p99: 12,
  errors: 0,
  non2xx: 0,
  total: requestsPerSecond * 5,
  ...(serverCpu === undefined ? {} : { serverCpuMicrosPerRequest: serverCpu }),
  ...(databaseCpu === undefined ? {} : { databaseCpuMicrosPerRequest: databaseCpu }),
});

describe("per-round ratios", () => {
  it("counts the database server's CPU with the server's", () => {
    expect(totalCpuMicros(result(1, 60, 90))).toBe(150);
    expect(totalCpuMicros(result(1, 60))).toBe(60);
    expect(totalCpuMicros(result(1))).toBeUndefined();
  });

  it("takes the median of the ratios round by round, not the ratio of the medians", () => {
    // The machine slows down in round 2 for both; per round, the subject is always half the reference.
    const subject = [result(500, 200, 0), result(100, 200, 0), result(520, 200, 0)];
    const reference = [result(1000, 100), result(200, 100), result(1000, 100)];
    expect(perRoundRatios(subject, reference)).toEqual({ ratio: 0.5, cpuRatio: 0.5 });
  });

  it("gives no CPU ratio when a round has no CPU figure", () => {
    expect(perRoundRatios([result(10, 5), result(10)], [result(20, 5), result(20, 5)])).toEqual({ ratio: 0.5 });
  });
});

describe("rowsOfPlan", () => {
  const scenarios: PlannedScenario[] = [
    { name: "baseline: bare node:http" },
    { name: "service over HTTP: verify (valid)", reference: "baseline: bare node:http", target: "≥ 50%" },
    { name: "PostgreSQL over HTTP: verify (valid)", reference: "baseline: bare node:http" },
  ];
  const comparisons: Comparison[] = [
    {
      name: "PostgreSQL vs SQLite: verify (valid)",
      subject: "PostgreSQL over HTTP: verify (valid)",
      reference: "service over HTTP: verify (valid)",
      referenceLabel: "SQLite, same round",
      target: "≥ 50%",
    },
  ];
  const results = new Map([
    ["baseline: bare node:http", [result(30_000, 25), result(28_000, 25)]],
    ["service over HTTP: verify (valid)", [result(10_000, 100), result(9_000, 100)]],
    ["PostgreSQL over HTTP: verify (valid)", [result(6_000, 60, 90), result(5_000, 60, 90)]],
  ]);

  it("gives each scenario its ratios to its reference, and each comparison its subject's figures", () => {
    const rows = rowsOfPlan(scenarios, comparisons, results);
    expect(rows.map((row) => row.scenario)).toEqual([...scenarios.map((s) => s.name), comparisons[0]!.name]);
    expect(rows[0]).not.toHaveProperty("ratio");
    expect(rows[1]).toMatchObject({ baseline: "baseline", cpuRatio: 0.25, target: "≥ 50%", serverCpuMicros: 100 });
    expect(rows[3]).toMatchObject({
      baseline: "SQLite, same round",
      throughput: 5_500,
      serverCpuMicros: 60,
      databaseCpuMicros: 90,
      // 100 µs on SQLite against 60 + 90 on PostgreSQL.
      cpuRatio: 100 / 150,
    });
    expect(rows[3]!.rounds).toEqual([
      { requestsPerSecond: 6_000, serverCpuMicros: 60, databaseCpuMicros: 90 },
      { requestsPerSecond: 5_000, serverCpuMicros: 60, databaseCpuMicros: 90 },
    ]);
    expect(rows[3]!.ratio).toBeCloseTo((6_000 / 10_000 + 5_000 / 9_000) / 2);
  });

  it("fails on a scenario that was not measured", () => {
    expect(() => rowsOfPlan(scenarios, comparisons, new Map())).toThrow(/no results/);
  });

  it("renders a table whose every line has the header's columns, the CPU ratio before the throughput ratio", () => {
    const table = markdownTable(rowsOfPlan(scenarios, comparisons, results)).split("\n");
    const columns = (line: string) => line.split("|").length;
    for (const line of table) expect(columns(line)).toBe(columns(table[0]!));
    expect(table[0]).toMatch(/server CPU µs\/req \| database CPU µs\/req \| CPU ratio \| throughput ratio/);
    expect(table.at(-1)).toBe(
      "| PostgreSQL vs SQLite: verify (valid) | 5,500 req/s | 4.0 | 12.0 | 60 | 90 | 67% | 58% | SQLite, same round | ≥ 50% | 0 |",
    );
  });
});
