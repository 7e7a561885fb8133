import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchSettings, parseBenchArgs, UsageError } from "./args.js";
import { builtServer, checkoutLabel, forgetUnknownMigrations, migrationNames } from "./checkout.js";
import { type PreparedPostgres, preparePostgres } from "./postgres/prepare-postgres.js";
import { REPO_ROOT } from "./processes.js";
import { markdownTable, type Row } from "./report.js";
import { httpScenarios, SERVER_MAIN } from "./scenarios/http.js";
import { importFloodScenario } from "./scenarios/import-flood.js";
import { inProcessVerify, scaleCreate, scaleVerify } from "./scenarios/in-process.js";
import { seedDatabase } from "./seed.js";

/** The settings, or the usage error in one line and exit 2. */
function readSettings(): BenchSettings {
  try {
    return parseBenchArgs(process.argv.slice(2), REPO_ROOT);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}
const settings = readSettings();
const { only } = settings;

const started = Date.now();
const workdir = mkdtempSync(join(tmpdir(), "billingos-bench-"));
const log = (message: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);
let postgres: PreparedPostgres | undefined;

try {
  builtServer(REPO_ROOT);
  const against =
    settings.against === undefined
      ? undefined
      : { main: builtServer(settings.against), label: checkoutLabel(settings.against) };
  const thisLabel = checkoutLabel(REPO_ROOT);
  // Two hosts are two servers on the PostgreSQL twin's database.
  const withPostgres = only.includes("postgres") || only.includes("two-hosts");
  const http = only.includes("http") || withPostgres;

  log(`seeding ${settings.tokens.toLocaleString("en-US")} tokens`);
  const large = await seedDatabase(join(workdir, "large.sqlite"), {
    tokens: settings.tokens,
    knownTokens: 10_000,
    revocableTokens: 200_000,
  });
  // From the seeded file as it is now, before any server writes to it.
  const againstCopy = join(workdir, "against.sqlite");
  if (against) {
    copyFileSync(large.path, againstCopy);
    const forgotten = forgetUnknownMigrations(againstCopy, migrationNames(settings.against!));
    if (forgotten.length > 0)
      log(
        `the copy for ${against.label} forgets migrations it does not have (they must change nothing on SQLite): ${forgotten.join(", ")}`,
      );
  }
  if (withPostgres) {
    postgres = await preparePostgres(large, {
      tokens: settings.postgresTokens,
      poolSize: settings.postgresPoolSize,
      settings: settings.postgresSettings,
      workdir,
      log,
    });
  }
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
    const many = await seedDatabase(join(workdir, "many.sqlite"), {
      tokens: 1,
      knownTokens: 0,
      importedCustomers: settings.customers,
    });
    rows.push(...(await scaleCreate(none, many, settings.inProcess, settings.customers)));
  }
  if (http) {
    const twins = [
      postgres ? "PostgreSQL" : "",
      against ? `checkout ${against.label}` : "",
      only.includes("peer") ? "Better Auth" : "",
    ].filter(Boolean);
    log(
      `over HTTP (${settings.http.connections} connections, ${settings.http.rounds} rounds${twins.length ? `; interleaved: ${twins.join(", ")}` : ""})`,
    );
    rows.push(
      ...(await httpScenarios(large, settings.http, {
        peer: only.includes("peer"),
        ...(postgres ? { postgres: postgres.twin, twoHosts: only.includes("two-hosts") } : {}),
        ...(against ? { against: { ...against, copyPath: againstCopy } } : {}),
        thisLabel,
        ...(settings.operations ? { operations: settings.operations } : {}),
      })),
    );
  }
  if (only.includes("import-flood")) {
    log(`import flood: another tenant's verify while one tenant imports`);
    rows.push(...(await importFloodScenario(large, settings.http)));
  }

  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    node: process.version,
    date: new Date().toISOString(),
    loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(2))),
  };
  const run = {
    mode: settings.mode,
    checkout: thisLabel,
    server: SERVER_MAIN,
    ...(against ? { against } : {}),
    ...(postgres
      ? {
          postgres: {
            tokens: postgres.twin.tokens,
            seedSeconds: Number(postgres.seedSeconds.toFixed(1)),
            poolSize: postgres.twin.poolSize ?? "server default",
            settings: settings.postgresSettings,
          },
        }
      : {}),
    settings,
    machine,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    rows,
  };
  mkdirSync(join(settings.json, ".."), { recursive: true });
  writeFileSync(settings.json, `${JSON.stringify(run, null, 2)}\n`);
  const quickNote =
    settings.mode === "quick"
      ? `\nQuick: ${settings.http.rounds} rounds of ${settings.http.durationSeconds} s; ratios indicative only (the full run's 3 × 5 s are steadier).\n`
      : "";
  process.stdout.write(
    `\nBillingOS bench (${run.mode}) at ${thisLabel} — ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}, ${machine.date}, load average ${machine.loadAverageAtEnd.join(" ")}\n\n${markdownTable(rows)}\n${quickNote}\nJSON: ${settings.json}\n`,
  );
  const failed = rows.filter((row) => (row.errors ?? 0) > 0);
  if (failed.length > 0) {
    process.stderr.write(`errors in: ${failed.map((row) => row.scenario).join("; ")}\n`);
    process.exitCode = 1;
  }
} finally {
  if (postgres)
    await postgres.database
      .drop()
      .catch((error: unknown) => log(`could not drop ${postgres?.database.name}: ${String(error)}`));
  rmSync(workdir, { recursive: true, force: true });
}
