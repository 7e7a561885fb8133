import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import v8 from "node:v8";
import vm from "node:vm";
import { formatToken } from "@billingos/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../src/index.js";

// What stands in front of BillingOS (a proxy, a load balancer) may answer in plain text, or not at
// all: the client must keep the status, and give up after its timeout.

const key = formatToken("secretKey", "test", "A".repeat(43));
let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function failure(client: BillingOS): Promise<BillingOSError> {
  const error = await client.createSessionToken({ externalUserId: "user_1" }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(BillingOSError);
  return error as BillingOSError;
}

describe("answers that do not come from the API", () => {
  it.each([
    [502, "INTERNAL_SERVER_ERROR"],
    [503, "INTERNAL_SERVER_ERROR"],
    [413, "PAYLOAD_TOO_LARGE"],
    [429, "TOO_MANY_REQUESTS"],
  ])("a plain-text %i keeps its status (code %s) and Retry-After", async (status, code) => {
    const url = await listen((_req, res) => {
      res.writeHead(status, { "content-type": "text/html", "retry-after": "7" });
      res.end("<html>proxy says no</html>");
    });
    // Without retries: what the caller gets once they are spent (retries.e2e.test.ts retries).
    const error = await failure(new BillingOS({ secretKey: key, sandboxUrl: url, maxNetworkRetries: 0 }));
    expect(error).toMatchObject({ code, httpStatus: status, retryAfterSeconds: 7 });
    expect(error.message).toMatch(/in front of BillingOS/);
  });

  it("a server that never answers gives TIMEOUT after timeoutMs", async () => {
    const url = await listen(() => {
      // holds the request open
    });
    const started = Date.now();
    const error = await failure(
      new BillingOS({ secretKey: key, sandboxUrl: url, timeoutMs: 300, maxNetworkRetries: 0 }),
    );
    expect(error.code).toBe("TIMEOUT");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("hostile answers", () => {
  const client = (url: string) =>
    new BillingOS({ secretKey: key, sandboxUrl: url, timeoutMs: 500, maxNetworkRetries: 0 });

  it("times out even while the garbage collector runs (a collected timer signal never fired on Node 20)", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const url = await listen(() => {
      // holds the request open
    });
    const collecting = setInterval(gc, 20);
    try {
      const started = Date.now();
      const error = await failure(client(url));
      expect(error.code).toBe("TIMEOUT");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      clearInterval(collecting);
    }
  });

  it("an answer whose headers come but whose body stalls is a TIMEOUT, not a connection failure", async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"result":{"data":');
    });
    const error = await failure(client(url));
    expect(error.code).toBe("TIMEOUT");
  });

  it("an HTML page with a 200 keeps its status: not the API, not a connection failure", async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/html", "x-request-id": "req_proxy" });
      res.end("<html>captive portal</html>");
    });
    const error = await failure(client(url));
    expect(error).toMatchObject({ code: "INTERNAL_SERVER_ERROR", httpStatus: 200, requestId: "req_proxy" });
    expect(error.message).toMatch(/not from the API/);
  });

  it("an answer over 16 MiB is refused without being read whole", async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(1024 * 1024, 32);
      let sent = 0;
      const more = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once("drain", more);
        else res.end();
      };
      more();
    });
    const error = await failure(client(url));
    expect(error).toMatchObject({ code: "INTERNAL_SERVER_ERROR", httpStatus: 200 });
    expect(error.message).toMatch(/over 16777216 bytes/);
  });

  it("a redirect is not followed: the body never reaches the host it points to", async () => {
    let reached = 0;
    const elsewhere = createServer((_req, res) => {
      reached++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve));
    try {
      const target = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
      const url = await listen((req, res) => {
        res.writeHead(307, { location: `${target}${req.url}` }).end();
      });
      const error = await failure(client(url));
      expect(error).toMatchObject({ httpStatus: 307 });
      expect(error.message).toMatch(/redirect/);
      expect(reached).toBe(0);
    } finally {
      await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
    }
  });
});
