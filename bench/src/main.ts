import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "./processes.js";
import { markdownTable, type Row } from "./report.js";
import { httpScenarios, peerScenario } from "./scenarios/http.js";
import { importFloodScenario } from "./scenarios/import-flood.js";
import { inProcessVerify, scaleCreate, scaleVerify } from "./scenarios/in-process.js";
import { seedDatabase } from "./seed.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    json: { type: "string", default: join(REPO_ROOT, "bench-results", "latest.json") },
  },
});

// Full: the settings BENCHMARKS.md records. Quick: under a minute, same scenarios, smaller numbers.
const settings = values.quick
  ? { tokens: 100_000, customers: 100_000, http: { connections: 50, durationSeconds: 2, warmupSeconds: 1, rounds: 1 }, inProcess: { rounds: 3, milliseconds: 300 } }
  : { tokens: 1_000_000, customers: 100_000, http: { connections: 50, durationSeconds: 5, warmupSeconds: 3, rounds: 3 }, inProcess: { rounds: 5, milliseconds: 2000 } };
const only = values.only?.split(",") ?? ["in-process", "scale", "http", "peer", "import-flood"];

const started = Date.now();
const workdir = mkdtempSync(join(tmpdir(), "billingos-bench-"));
const log = (message: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);

try {
  log(`seeding ${settings.tokens.toLocaleString("en-US")} tokens`);
  const large = await seedDatabase(join(workdir, "large.sqlite"), { tokens: settings.tokens, knownTokens: 10_000, revocableTokens: 200_000 });
  const rows: Row[] = [];
  if (only.includes("in-process")) {
    log("in process: service vs raw");
    rows.push(...(await inProcessVerify(large, settings.inProcess)));
  }
  if (only.includes("scale")) {
    log("scale: seeding 10,000 tokens, and 0 / 100,000 imported customers");
    const small = await seedDatabase(join(workdir, "small.sqlite"), { tokens: 10_000, knownTokens: 5_000 });
    rows.push(...(await scaleVerify(small, large, settings.inProcess, [10_000, settings.tokens])));
    const none = await seedDatabase(join(workdir, "none.sqlite"), { tokens: 1, knownTokens: 0 });
    const many = await seedDatabase(join(workdir, "many.sqlite"), { tokens: 1, knownTokens: 0, importedCustomers: settings.customers });
    rows.push(...(await scaleCreate(none, many, settings.inProcess, settings.customers)));
  }
  if (only.includes("http")) {
    log("over HTTP (50 connections)");
    const httpRows = await httpScenarios(large, settings.http);
    rows.push(...httpRows);
    if (only.includes("peer")) {
      log("peer: Better Auth");
      const peer = await peerScenario(workdir, settings.http, httpRows[0]!);
      const verify = httpRows.find((row) => row.scenario.startsWith("service over HTTP: verify (valid)"))!;
      rows.push(peer, {
        scenario: "verify vs Better Auth getSession",
        throughput: verify.throughput,
        unit: "req/s",
        baseline: "Better Auth",
        ratio: verify.throughput / peer.throughput,
        target: "≥ 300%",
      });
    }
  }

  if (only.includes("import-flood")) {
    log(`import flood: another tenant's verify while one tenant imports`);
    rows.push(...(await importFloodScenario(large, settings.http)));
  }

  const machine = { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version, date: new Date().toISOString() };
  const run = { mode: values.quick ? "quick" : "full", settings, machine, durationSeconds: Math.round((Date.now() - started) / 1000), rows };
  mkdirSync(join(values.json, ".."), { recursive: true });
  writeFileSync(values.json, `${JSON.stringify(run, null, 2)}\n`);
  process.stdout.write(
    `\nBillingOS bench (${run.mode}) — ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, ${machine.date}\n\n${markdownTable(rows)}\n\nJSON: ${values.json}\n`,
  );
  const failed = rows.filter((row) => (row.errors ?? 0) > 0);
  if (failed.length > 0) {
    process.stderr.write(`errors in: ${failed.map((row) => row.scenario).join("; ")}\n`);
    process.exitCode = 1;
  }
} finally {
  rmSync(workdir, { recursive: true, force: true });
}
