import { spawn } from "node:child_process";
import { join } from "node:path";
import { createApiKey, openStore, systemClock } from "@billingos/server";
import { median } from "../in-process.js";
import { type LoadResult, measureLoad } from "../load.js";
import { REPO_ROOT, type ServerProcess, startServerProcess } from "../processes.js";
import type { Row } from "../report.js";
import { rowFromRounds } from "../rounds.js";
import type { SeededDatabase } from "../seed.js";
import type { HttpSettings } from "./http.js";

const SERVER_MAIN = join(REPO_ROOT, "apps/server/dist/main.js");
/** Verify's load here: enough to keep the server busy without measuring only its queue. */
const VERIFY_CONNECTIONS = 10;
/** The flooding tenant's requests in flight, each a full batch of fresh customers. */
const IMPORTERS = 2;
const ROWS_PER_BATCH = 1_000;
/** The server's default import limit (IMPORT_RATE_LIMIT_ROWS_PER_MINUTE). */
const DEFAULT_IMPORT_LIMIT = 60_000;

interface FloodResult {
  requests: number;
  ok: number;
  refused: number;
  /** Anything but a 200 or a 429: a 5xx, no answer. */
  failures: number;
  seconds: number;
  rowsPerSecond: number;
}

interface Flood {
  /** Resolves once the flood has had a batch refused (429). */
  firstRefusal: Promise<void>;
  stop(): Promise<FloodResult>;
}

/** Starts the flooder (bench/src/import-flooder.ts) in its own process against `url`. */
function startFlood(url: string, secretKey: string): Flood {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bench/src/import-flooder.ts", url, secretKey, String(IMPORTERS), String(ROWS_PER_BATCH)],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  let onRefusal: () => void = () => {};
  const firstRefusal = new Promise<void>((resolve) => (onRefusal = resolve));
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('"firstRefusal"')) onRefusal();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    firstRefusal,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      const last = out.trim().split("\n").at(-1) ?? "{}";
      const counts = JSON.parse(last) as {
        requests: number;
        ok: number;
        refused: number;
        failures: number;
        seconds: number;
      };
      return { ...counts, rowsPerSecond: (counts.ok * ROWS_PER_BATCH) / counts.seconds };
    },
  };
}

/**
 * Another tenant's verify latency while one tenant floods imports, beside verify alone, in the
 * same rounds: two servers on the seeded database, one without an import limit (the work of each
 * import is what the others feel) and one at the default limit. Each round measures, in turn,
 * verify alone, verify during a flood without limit, and verify during a flood at the limit.
 */
export async function importFloodScenario(seeded: SeededDatabase, settings: HttpSettings): Promise<Row[]> {
  const db = await openStore({ databasePath: seeded.path });
  const flooder = await createApiKey(db, systemClock, { organizationName: "Flood", environment: "test" });
  await db.close();

  const servers: ServerProcess[] = [];
  const start = async (limit: number) => {
    const server = await startServerProcess([SERVER_MAIN], {
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_PATH: seeded.path,
      LOG_LEVEL: "info",
      CREATE_RATE_LIMIT_PER_MINUTE: "0",
      IMPORT_RATE_LIMIT_ROWS_PER_MINUTE: String(limit),
    });
    servers.push(server);
    return server;
  };
  try {
    const unlimited = await start(0);
    const limited = await start(DEFAULT_IMPORT_LIMIT);
    const verifyOn = (server: ServerProcess, durationSeconds: number, withCpu: boolean) =>
      measureLoad({
        url: `${server.url}/trpc/sessionTokens.verify`,
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${seeded.secretKey}` },
        body: JSON.stringify({ sessionToken: seeded.validTokens[0] }),
        connections: VERIFY_CONNECTIONS,
        durationSeconds,
        warmupSeconds: 0,
        ...(withCpu ? { serverPid: server.pid } : {}),
      });
    const duringFlood = async (server: ServerProcess, durationSeconds: number) => {
      const flood = startFlood(server.url, flooder.secretKey);
      // The flood (its process started) reaches its pace before verify is measured.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const verify = await verifyOn(server, durationSeconds, false);
      return { verify, flood: await flood.stop() };
    };

    if (settings.warmupSeconds > 0) {
      await verifyOn(unlimited, settings.warmupSeconds, false);
      await verifyOn(limited, settings.warmupSeconds, false);
      await duringFlood(unlimited, settings.warmupSeconds);
    }
    // The limited server's bucket starts full (a minute's worth of rows in one burst): the flood
    // empties it first, so that the rounds measure the flood held at the limit, not the burst.
    const draining = startFlood(limited.url, flooder.secretKey);
    await Promise.race([draining.firstRefusal, new Promise((resolve) => setTimeout(resolve, 180_000))]);
    await draining.stop();
    const alone: LoadResult[] = [];
    const flooded: LoadResult[] = [];
    const floodedAtLimit: LoadResult[] = [];
    const floods: FloodResult[] = [];
    const floodsAtLimit: FloodResult[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      alone.push(await verifyOn(unlimited, settings.durationSeconds, true));
      const free = await duringFlood(unlimited, settings.durationSeconds);
      flooded.push(free.verify);
      floods.push(free.flood);
      const capped = await duringFlood(limited, settings.durationSeconds);
      floodedAtLimit.push(capped.verify);
      floodsAtLimit.push(capped.flood);
    }

    const verifyRow = (scenario: string, rounds: LoadResult[], reference?: LoadResult[]): Row =>
      rowFromRounds(scenario, rounds, reference ? { name: "verify alone", rounds: reference } : undefined);
    const floodRow = (scenario: string, rounds: FloodResult[]): Row => ({
      scenario: `${scenario}: ${median(rounds.map((flood) => flood.rowsPerSecond)).toLocaleString("en-US", { maximumFractionDigits: 0 })} rows/s imported, ${sum(rounds, "ok")} batches accepted, ${sum(rounds, "refused")} refused (429)`,
      throughput: median(rounds.map((flood) => flood.requests / flood.seconds)),
      unit: "req/s",
      errors: sum(rounds, "failures"),
    });
    const tenant = `another tenant's verify (${VERIFY_CONNECTIONS} connections)`;
    return [
      verifyRow(`import flood: ${tenant}, alone`, alone),
      verifyRow(
        `import flood: ${tenant}, while one tenant imports without limit (${IMPORTERS} × ${ROWS_PER_BATCH.toLocaleString("en-US")}-row batches in flight)`,
        flooded,
        alone,
      ),
      floodRow("import flood: the flood without limit", floods),
      verifyRow(
        `import flood: ${tenant}, while one tenant imports at the default limit (${DEFAULT_IMPORT_LIMIT.toLocaleString("en-US")} rows/min)`,
        floodedAtLimit,
        alone,
      ),
      floodRow("import flood: the flood at the default limit", floodsAtLimit),
    ];
  } finally {
    for (const server of servers) await server.stop();
  }
}

function sum(rounds: FloodResult[], field: "ok" | "refused" | "failures"): number {
  return rounds.reduce((total, flood) => total + flood[field], 0);
}
