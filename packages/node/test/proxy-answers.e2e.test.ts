import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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
