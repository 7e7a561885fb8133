import { inspect } from "node:util";
import { formatToken } from "@billingos/contracts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../src/index.js";
import { createSessionClient } from "../src/session/index.js";
import { NOWHERE, rejectionOf, type ServerHarness, startServerHarness } from "./server-harness.js";
import { type FlakyProxy, type ProxyAction, type SeenRequest, startFlakyProxy } from "./support/flaky-proxy.js";

// A refused call's BillingOSError carries the x-request-id its answer carried, for support tickets.
// A transparent proxy in front of the real server reads the header the server sent.

let h: ServerHarness;
let proxy: FlakyProxy | undefined;

beforeAll(async () => {
  h = await startServerHarness();
});
afterAll(() => h.close());
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function behindProxy(decide: (n: number, request: SeenRequest) => ProxyAction = () => "forward") {
  proxy = await startFlakyProxy(h.url, decide);
  return proxy;
}

async function billingOSErrorOf(fn: () => Promise<unknown>): Promise<BillingOSError> {
  const error = await rejectionOf(fn);
  expect(error).toBeInstanceOf(BillingOSError);
  return error as BillingOSError;
}

/** The one request the proxy saw, and the x-request-id the server answered it with. */
function onlyAnswer(seen: SeenRequest[]): string {
  expect(seen).toHaveLength(1);
  const id = seen[0]!.answer?.headers["x-request-id"];
  expect(typeof id).toBe("string");
  return id as string;
}

describe("BillingOSError.requestId", () => {
  it("is the x-request-id the server sent with its refusal, and shows in toString and inspect", async () => {
    const { url, seen } = await behindProxy();
    const billing = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: url });
    const tokenId = `tok_${"0".repeat(26)}`;

    const error = await billingOSErrorOf(() => billing.revokeSessionToken(tokenId));
    expect(error).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
    const sent = onlyAnswer(seen);
    expect(sent).toMatch(/^req_/);
    expect(error.requestId).toBe(sent);
    expect(String(error)).toBe(`BillingOSError: ${error.message} (request ${sent})`);
    expect(inspect(error)).toContain(sent);
  });

  it("is the server's on a query's refusal too (an unknown key)", async () => {
    const { url, seen } = await behindProxy();
    const unknownKey = formatToken("secretKey", "test", "A".repeat(43));
    const billing = new BillingOS({ secretKey: unknownKey, sandboxUrl: url });

    const error = await billingOSErrorOf(() => billing.listSessionTokens({ externalUserId: "u1" }));
    expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    expect(error.requestId).toBe(onlyAnswer(seen));
  });

  it("is the last attempt's when a retried call fails", async () => {
    // The server refuses with 429 after two 503s from something in front of it (each with its own id).
    const { url, seen } = await behindProxy((n) =>
      n <= 2
        ? { status: 503, headers: { "retry-after": "0", "x-request-id": `lb_attempt_${n}` }, json: {} }
        : "forward",
    );
    const billing = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: url, maxNetworkRetries: 2 });
    const error = await billingOSErrorOf(() => billing.revokeSessionToken(`tok_${"1".repeat(26)}`));
    expect(error.code).toBe("NOT_FOUND");
    expect(seen).toHaveLength(3);
    expect(error.requestId).toBe(seen[2]!.answer?.headers["x-request-id"]);
    expect(error.requestId).toMatch(/^req_/);
  });

  it("is the id of an answer that is not BillingOS's (a load balancer's page), when it sent one", async () => {
    const { url } = await behindProxy(() => ({
      status: 502,
      headers: { "content-type": "text/html", "x-request-id": "lb_0123456789" },
      json: "<html>Bad gateway</html>",
    }));
    const billing = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: url, maxNetworkRetries: 0 });
    const error = await billingOSErrorOf(() => billing.createSessionToken({ externalUserId: "u1" }));
    expect(error).toMatchObject({ code: "INTERNAL_SERVER_ERROR", httpStatus: 502, requestId: "lb_0123456789" });
  });

  it("is undefined when nothing answered, and toString then names no request", async () => {
    const billing = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: NOWHERE, maxNetworkRetries: 0 });
    const error = await billingOSErrorOf(() => billing.createSessionToken({ externalUserId: "u1" }));
    expect(error.code).toBe("CONNECTION_FAILED");
    expect(error.requestId).toBeUndefined();
    expect(String(error)).toBe(`BillingOSError: ${error.message}`);
  });

  it("is undefined when the client refused the input before sending it", async () => {
    const error = await billingOSErrorOf(() =>
      h.client(h.testKey.secretKey).createSessionToken({ externalUserId: "u1", expiresIn: 1 }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.requestId).toBeUndefined();
  });

  it("is set by the browser's session client too", async () => {
    const { url, seen } = await behindProxy();
    const never = formatToken("sessionToken", "test", "C".repeat(43));
    const session = createSessionClient({ sessionToken: never, sandboxUrl: url });
    const error = await billingOSErrorOf(() => session.getSession());
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.requestId).toBe(onlyAnswer(seen));
  });
});
