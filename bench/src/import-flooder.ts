// One tenant importing as fast as it can, in a process of its own: the load generator measuring the
// other tenant's verify (autocannon) must not share its event loop with the flood's bodies and
// answers, or its own delays would be counted as the server's. Usage: import-flooder.ts URL KEY
// IMPORTERS ROWS. Floods until SIGTERM, then prints its counts as one JSON line and exits.

const [url, secretKey, importers, rowsPerBatch] = process.argv.slice(2) as [string, string, string, string];

// One JSON text, its ids made unique per batch by a cheap replace, so the flooder's CPU (it shares the
// two cores with the server) goes to sending, not to building bodies.
const template = JSON.stringify({
  customers: Array.from({ length: Number(rowsPerBatch) }, (_, i) => ({
    stripeCustomerId: `cus_BATCHx${i}`,
    email: `flood.BATCH.${i}@import.example`,
    name: `Flood customer ${i}`,
    metadata: { plan: "pro" },
  })),
});
let batch = 0;
let stopped = false;
let refusalTold = false;
const counts = { requests: 0, ok: 0, refused: 0, failures: 0 };
const started = performance.now();

const loops = Array.from({ length: Number(importers) }, async () => {
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
      counts.requests++;
      if (response.status === 200) counts.ok++;
      else if (response.status === 429) counts.refused++;
      else counts.failures++;
      // A real client would wait for Retry-After; the flood keeps knocking, so that a refusal's own
      // cost to the server is measured too.
    } catch {
      counts.failures++;
    }
    if (counts.refused > 0 && !refusalTold) {
      refusalTold = true;
      process.stdout.write(`${JSON.stringify({ firstRefusal: true })}\n`);
    }
  }
});

process.stdout.write(`${JSON.stringify({ started: true })}\n`);
process.once("SIGTERM", () => {
  stopped = true;
  void Promise.all(loops).then(() => {
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${JSON.stringify({ ...counts, seconds })}\n`);
    process.exit(0);
  });
});
