import { Agent, request } from "node:http";
import { createApiKey } from "../../src/api-keys/api-keys.service.js";
import { startHttpServer } from "../../src/http/http-server.js";
import { systemClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import { openTestStore } from "../support/test-store.js";

// Run by deep-json-soak.test.ts in a child process started with --expose-gc, so that the heap
// measured is the server's alone. A real server on port 0 and a real SQLite database receive a
// stream of sessionTokens.create bodies whose metadata is nested thousands of levels deep; the heap
// is measured after forced collections before and after the stream. Prints one JSON line.
//
// Usage: deep-json-soak.entry.ts <fast|stock> <requests>

const handler = process.argv[2] === "stock" ? "stock" : "fast";
const requests = Number(process.argv[3] ?? 3000);
const exposedGc = (globalThis as { gc?: () => void }).gc;
if (exposedGc === undefined) throw new Error("run with --expose-gc");
const gc: () => void = exposedGc;

/** Bodies of ~6–60 KB nested 3,000–10,000 levels: objects, arrays, and both interleaved, at the root of metadata and under a key. */
function deepBodies(): string[] {
  const shapes: Array<[open: string, close: string]> = [
    ['{"a":', "}"],
    ["[", "]"],
    ['[{"k":', "}]"],
    ['{"x":[', "]}"],
  ];
  const bodies: string[] = [];
  for (const depth of [3_000, 5_000, 10_000]) {
    for (const [open, close] of shapes) {
      const value = `${open.repeat(depth)}1${close.repeat(depth)}`;
      bodies.push(`{"externalUserId":"soak","metadata":{"deep":${value}}}`);
      bodies.push(`{"externalUserId":"soak","metadata":{"ip":"203.0.113.9","more":{"deep":${value}}}}`);
    }
  }
  return bodies;
}

async function main() {
  const db = await openTestStore();
  const key = await createApiKey(db, systemClock, { organizationName: "Soak", environment: "test" });
  // No rate limiter: the point is what one process keeps per refused request, not how many it takes.
  const server = await startHttpServer({
    deps: { store: db, clock: systemClock, logger: createLogger("silent") },
    port: 0,
    host: "127.0.0.1",
    handler,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const bodies = deepBodies();
  const statuses: Record<string, number> = {};
  let sample = "";

  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: server.port,
          method: "POST",
          path: "/trpc/sessionTokens.create",
          agent,
          headers: {
            authorization: `Bearer ${key.secretKey}`,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            if (sample === "") sample = Buffer.concat(chunks).toString("utf8").slice(0, 500);
            resolve();
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  /** `count` requests, four at a time (the agent's sockets). */
  const stream = async (count: number) => {
    let next = 0;
    const worker = async () => {
      while (next < count) await post(bodies[next++ % bodies.length]!);
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  };

  const settledHeap = async () => {
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    return process.memoryUsage().heapUsed;
  };

  // Warm-up: compiled code, connection buffers and caches settle before the baseline.
  await stream(200);
  const before = await settledHeap();
  await stream(requests);
  const after = await settledHeap();
  const rows = await db.kysely
    .selectFrom("session_tokens")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();

  agent.destroy();
  await server.close(1_000);
  await db.close();
  console.log(
    JSON.stringify({
      handler,
      requests,
      before,
      after,
      growthBytes: after - before,
      statuses,
      sample,
      storedRows: Number(rows.n),
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
