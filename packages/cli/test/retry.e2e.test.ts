import { writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BillingOSError } from "@billingos/node";
import { createApiKey, createLogger, startHttpServer, systemClock } from "@billingos/server";
import { openTestStore } from "@billingos/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTransient } from "../src/retry.js";
import { fixture, parseReport, runCliCaptured, stripeImportArgs, tempDir } from "./cli-harness.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";

/**
 * What the proxy does with the n-th import request (from 1): pass it on; hang up; pass it on but
 * hang up before the answer gets back (the server wrote the batch, the client never hears); or
 * answer for the server with a status and a JSON body.
 */
type Decision = "forward" | "drop" | "lose-answer" | { status: number; json: unknown };

/** An error answer shaped as the BillingOS server's own (a tRPC error). */
function trpcError(code: string, httpStatus: number, message: string, data: Record<string, unknown> = {}): Decision {
  return { status: httpStatus, json: { error: { message, code: -32000, data: { code, httpStatus, ...data } } } };
}

interface FlakyProxy {
  url: string;
  /** Import requests seen, with their body sizes. */
  requests: number[];
  close(): Promise<void>;
}

/**
 * A tiny node:http proxy in front of the real server, failing import requests the way a load
 * balancer or a restarting server would. Everything else passes through untouched.
 */
async function startFlakyProxy(
  target: string,
  decide: (n: number, bodyBytes: number) => Decision,
): Promise<FlakyProxy> {
  const requests: number[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const decision = req.url?.startsWith("/trpc/customers.import")
        ? decide(requests.push(body.length), body.length)
        : "forward";
      if (decision === "drop") {
        req.socket.destroy();
        return;
      }
      if (typeof decision === "object") {
        res.writeHead(decision.status, { "content-type": "application/json" });
        res.end(JSON.stringify(decision.json));
        return;
      }
      const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        if (decision === "lose-answer") {
          answer.resume();
          answer.on("end", () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe("billingos import stripe: failed batches are retried safely", () => {
  let harness: ServerHarness;
  const files = tempDir();
  const proxies: FlakyProxy[] = [];
  const proxy = async (decide: (n: number, bodyBytes: number) => Decision) => {
    const started = await startFlakyProxy(harness.url, decide);
    proxies.push(started);
    return started;
  };

  beforeAll(async () => {
    harness = await startServerHarness();
  });
  afterAll(async () => {
    for (const started of proxies) await started.close();
    await harness.close();
    files.remove();
  });

  it("retries a batch answered 503 once, then imports everything and reports the retry", async () => {
    const { secretKey } = await harness.createKey("Retry 503", "test");
    // A load balancer's answer while the server restarts: JSON, but not the API's own.
    const flaky = await proxy((n) => (n === 1 ? { status: 503, json: { message: "Service Unavailable" } } : "forward"));
    const run = await runCliCaptured(stripeImportArgs(fixture("customers-list.json"), secretKey, flaky.url));
    expect(run.code).toBe(0);
    expect(flaky.requests).toHaveLength(2);
    expect(run.stderr).toMatch(/^batch 1: INTERNAL_SERVER_ERROR \(.*HTTP 503.*\); retry 1 in \d+\.\d s$/m);
    expect(parseReport(run.stdout)).toMatchObject({ created: 3, preBound: 1, batches: 1, retries: 1 });
    expect((await harness.client(secretKey).getCustomer({ stripeCustomerId: "cus_PzLst0001Ada" })).externalUserId).toBe(
      "user_ada",
    );
  });

  it("retries dropped connections and 429s, batch after batch", async () => {
    const { secretKey } = await harness.createKey("Retry mixed", "test");
    // Batches of one: request 1 dropped, 2 rate-limited, 3 passes (batch 1); 4 dropped, 5 passes (batch 2); …
    const flaky = await proxy((n) =>
      n === 1 || n === 4
        ? "drop"
        : n === 2
          ? trpcError("TOO_MANY_REQUESTS", 429, "Too many requests; retry in 1 s", { retryAfterSeconds: 1 })
          : "forward",
    );
    const run = await runCliCaptured(
      stripeImportArgs(fixture("customers-list.json"), secretKey, flaky.url, "--batch", "1"),
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^batch 1: CONNECTION_FAILED .*retry 1/m);
    // The server's own retry hint is honoured.
    expect(run.stderr).toMatch(/^batch 1: TOO_MANY_REQUESTS .*retry 2 in 1\.\d s$/m);
    expect(run.stderr).toMatch(/^batch 2: CONNECTION_FAILED .*retry 1/m);
    expect(parseReport(run.stdout)).toMatchObject({ created: 3, batches: 3, retries: 3 });
  });

  it("a batch whose answer was lost is sent again: its rows come back unchanged, never duplicated", async () => {
    const { secretKey } = await harness.createKey("Answer lost", "test");
    const lossy = await proxy((n) => (n === 1 ? "lose-answer" : "forward"));
    const run = await runCliCaptured(stripeImportArgs(fixture("customers-array.json"), secretKey, lossy.url));
    expect(run.code).toBe(0);
    expect(lossy.requests).toHaveLength(2);
    // The first attempt was written: the retry finds the rows there. The import is an upsert by Stripe id.
    expect(parseReport(run.stdout)).toMatchObject({ created: 0, unchanged: 2, retries: 1 });
    const unresolved = await harness.client(secretKey).listUnresolvedCustomers();
    expect(unresolved.data.map((customer) => customer.stripeCustomerId)).toEqual(["cus_PzArr0002Kat"]);
  });

  it("gives up after 5 tries with one line, exit 1", async () => {
    const { secretKey } = await harness.createKey("Retry exhausted", "test");
    const down = await proxy(() => ({ status: 502, json: { message: "Bad Gateway" } }));
    const run = await runCliCaptured(stripeImportArgs(fixture("customers-array.json"), secretKey, down.url));
    expect(run.code).toBe(1);
    expect(down.requests).toHaveLength(5);
    const lines = run.stderr.trim().split("\n");
    expect(lines.slice(0, 4).every((line) => /^batch 1: INTERNAL_SERVER_ERROR .*; retry [1-4] in/.test(line))).toBe(
      true,
    );
    expect(lines[4]).toMatch(
      new RegExp(
        `^error: batch 1 still failed after 5 tries at ${down.url} \\(INTERNAL_SERVER_ERROR: .*HTTP 502.*\\)\\.$`,
      ),
    );
    expect(run.stdout).toBe("");
  });

  it("retries what may pass next time, not an answer that came back off the contract", () => {
    const error = (fields: ConstructorParameters<typeof BillingOSError>[0]) => new BillingOSError(fields);
    expect(isTransient(error({ code: "CONNECTION_FAILED", message: "refused" }))).toBe(true);
    expect(isTransient(error({ code: "INTERNAL_SERVER_ERROR", message: "502", httpStatus: 502 }))).toBe(true);
    expect(isTransient(error({ code: "INTERNAL_SERVER_ERROR", message: "no status" }))).toBe(true);
    // A 200 whose body is not the API's (a proxy's page, another server version): the same again.
    expect(isTransient(error({ code: "INTERNAL_SERVER_ERROR", message: "off contract", httpStatus: 200 }))).toBe(false);
    expect(isTransient(error({ code: "BAD_REQUEST", message: "bad", httpStatus: 400 }))).toBe(false);
  });

  it("does not retry a refusal (400), which would fail the same way again", async () => {
    const { secretKey } = await harness.createKey("No retry", "test");
    const refusing = await proxy(() => trpcError("BAD_REQUEST", 400, "customers: something the server refuses"));
    const run = await runCliCaptured(stripeImportArgs(fixture("customers-array.json"), secretKey, refusing.url));
    expect(run.code).toBe(1);
    expect(refusing.requests).toHaveLength(1);
    expect(run.stderr).toBe("error: batch 1 was refused (BAD_REQUEST: customers: something the server refuses).\n");
  });

  it("halves a batch refused as too large (a proxy with a smaller body limit) until it fits", async () => {
    const { secretKey } = await harness.createKey("Split", "test");
    const small = await proxy((_n, bytes) =>
      bytes > 300 ? { status: 413, json: { message: "Request Entity Too Large" } } : "forward",
    );
    const run = await runCliCaptured(stripeImportArgs(fixture("customers-list.json"), secretKey, small.url));
    expect(run.code).toBe(0);
    expect(parseReport(run.stdout)).toMatchObject({ created: 3, batches: 1, retries: 0 });
    expect(small.requests.filter((bytes) => bytes <= 300).length).toBe(3);
  });

  it("fits a server configured with a small body limit (MAX_BODY_BYTES), by halving batches on its 413", async () => {
    const db = await openTestStore();
    const server = await startHttpServer({
      deps: { store: db, clock: systemClock, logger: createLogger("silent") },
      port: 0,
      host: "127.0.0.1",
      maxBodyBytes: 2_000,
    });
    try {
      const { secretKey } = await createApiKey(db, systemClock, {
        organizationName: "Small bodies",
        environment: "test",
      });
      const customers = Array.from({ length: 40 }, (_, i) => ({
        id: `cus_Small${i}`,
        object: "customer",
        email: `small${i}@example.com`,
        name: `Small ${i}`,
      }));
      const path = files.path("small-bodies.json");
      writeFileSync(path, JSON.stringify(customers));
      const run = await runCliCaptured(["import", "stripe", path, "--key", secretKey, "--url", server.url]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(parseReport(run.stdout)).toMatchObject({ created: 40, batches: 1, retries: 0 });
    } finally {
      await server.close(1_000);
      await db.close();
    }
  });
});
