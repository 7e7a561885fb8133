import { join } from "node:path";
import { createApiKey, openDatabase, systemClock } from "@billingos/server";
import { median } from "../in-process.js";
import { type LoadResult, measureLoad } from "../load.js";
import { REPO_ROOT, type ServerProcess, startServerProcess } from "../processes.js";
import type { Row } from "../report.js";
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
  rowsPerSecond: number;
}

/**
 * One tenant importing as fast as it can: IMPORTERS loops, each sending the next batch as soon as
 * the previous one is answered (a 429 included), every batch 1,000 customers never seen before.
 */
function startFlood(url: string, secretKey: string): { refusedSoFar(): number; stop(): Promise<FloodResult> } {
  // One JSON text, its ids made unique per batch by a cheap replace, so the load generator's own
  // CPU (it shares the two cores with the server) goes to sending, not to building bodies.
  const template = JSON.stringify({
    customers: Array.from({ length: ROWS_PER_BATCH }, (_, i) => ({
      stripeCustomerId: `cus_BATCHx${i}`,
      email: `flood.BATCH.${i}@import.example`,
      name: `Flood customer ${i}`,
      metadata: { plan: "pro" },
    })),
  });
  let batch = 0;
  let stopped = false;
  const result = { requests: 0, ok: 0, refused: 0, failures: 0 };
  const started = performance.now();
  const loops = Array.from({ length: IMPORTERS }, async () => {
    while (!stopped) {
      const body = template.replaceAll("BATCH", `f${process.pid}n${batch++}`);
      try {
        const response = await fetch(`${url}/trpc/customers.import`, {
          method: "POST",
          headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        await response.arrayBuffer();
        result.requests++;
        if (response.status === 200) result.ok++;
        else if (response.status === 429) result.refused++;
        else result.failures++;
        // A refused batch would be sent again by a real client after Retry-After; here the flood
        // keeps knocking, so that the refusal's own cost is measured too.
      } catch {
        result.failures++;
      }
    }
  });
  return {
    refusedSoFar: () => result.refused,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return { ...result, rowsPerSecond: (result.ok * ROWS_PER_BATCH) / ((performance.now() - started) / 1000) };
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
  const db = await openDatabase({ path: seeded.path });
  const flooder = await createApiKey(db, systemClock, { organizationName: "Flood", environment: "test" });
  await db.destroy();

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
      // The flood reaches its pace before verify is measured.
      await new Promise((resolve) => setTimeout(resolve, 500));
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
    const drainStarted = Date.now();
    while (draining.refusedSoFar() === 0 && Date.now() - drainStarted < 180_000) await new Promise((resolve) => setTimeout(resolve, 100));
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

    const aloneRates = alone.map((result) => result.requestsPerSecond);
    const verifyRow = (scenario: string, rounds: LoadResult[], baseline?: number[]): Row => {
      const cpu = rounds.flatMap((result) => (result.serverCpuMicrosPerRequest === undefined ? [] : [result.serverCpuMicrosPerRequest]));
      return {
        scenario,
        throughput: median(rounds.map((result) => result.requestsPerSecond)),
        unit: "req/s",
        p50Ms: median(rounds.map((result) => result.p50)),
        p99Ms: median(rounds.map((result) => result.p99)),
        ...(cpu.length > 0 ? { serverCpuMicros: median(cpu) } : {}),
        ...(baseline
          ? { baseline: "verify alone", ratio: median(rounds.map((result, round) => result.requestsPerSecond / baseline[round]!)) }
          : {}),
        errors: rounds.reduce((sum, result) => sum + result.errors + result.non2xx, 0),
      };
    };
    const floodRow = (scenario: string, rounds: FloodResult[]): Row => ({
      scenario: `${scenario}: ${median(rounds.map((flood) => flood.rowsPerSecond)).toLocaleString("en-US", { maximumFractionDigits: 0 })} rows/s imported, ${sum(rounds, "ok")} batches accepted, ${sum(rounds, "refused")} refused (429)`,
      throughput: median(rounds.map((flood) => flood.requests / settings.durationSeconds)),
      unit: "req/s",
      errors: sum(rounds, "failures"),
    });
    const tenant = `another tenant's verify (${VERIFY_CONNECTIONS} connections)`;
    return [
      verifyRow(`import flood: ${tenant}, alone`, alone),
      verifyRow(`import flood: ${tenant}, while one tenant imports without limit (${IMPORTERS} × ${ROWS_PER_BATCH.toLocaleString("en-US")}-row batches in flight)`, flooded, aloneRates),
      floodRow("import flood: the flood without limit", floods),
      verifyRow(`import flood: ${tenant}, while one tenant imports at the default limit (${DEFAULT_IMPORT_LIMIT.toLocaleString("en-US")} rows/min)`, floodedAtLimit, aloneRates),
      floodRow("import flood: the flood at the default limit", floodsAtLimit),
    ];
  } finally {
    for (const server of servers) await server.stop();
  }
}

function sum(rounds: FloodResult[], field: "ok" | "refused" | "failures"): number {
  return rounds.reduce((total, flood) => total + flood[field], 0);
}
