import { formatToken } from "@billingos/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../src/index.js";
import { NOWHERE, rejectionOf, type ServerHarness, startServerHarness } from "./server-harness.js";

let h: ServerHarness;
beforeAll(async () => {
  h = await startServerHarness();
});
afterAll(() => h.close());

async function billingOSErrorOf(fn: () => Promise<unknown>): Promise<BillingOSError> {
  const error = await rejectionOf(fn);
  expect(error).toBeInstanceOf(BillingOSError);
  return error as BillingOSError;
}

describe("server errors become BillingOSErrors with the code and HTTP status", () => {
  it("an unknown (but well-formed) secret key is UNAUTHORIZED 401", async () => {
    const unknownKey = formatToken("secretKey", "test", "A".repeat(43));
    const error = await billingOSErrorOf(() => h.client(unknownKey).createSessionToken({ externalUserId: "u1" }));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.httpStatus).toBe(401);
    expect(error.message).toMatch(/Unknown or revoked secret key/);
    expect(error.name).toBe("BillingOSError");
    expect(error).toBeInstanceOf(Error);
  });

  it("revoking an unknown tokenId is NOT_FOUND 404", async () => {
    const tokenId = `tok_${"0".repeat(26)}`;
    const error = await billingOSErrorOf(() => h.client(h.testKey.secretKey).revokeSessionToken(tokenId));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.httpStatus).toBe(404);
    expect(error.message).toContain(tokenId);
  });

  it("revoking a well-formed token that was never issued is NOT_FOUND", async () => {
    const token = formatToken("sessionToken", "test", "B".repeat(43));
    const error = await billingOSErrorOf(() => h.client(h.testKey.secretKey).revokeSessionToken(token));
    expect(error).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
  });

  it("verifying a well-formed token that was never issued answers not_found, not an error", async () => {
    const token = formatToken("sessionToken", "test", "B".repeat(43));
    expect(await h.client(h.testKey.secretKey).verifySessionToken(token)).toEqual({
      valid: false,
      reason: "not_found",
    });
  });
});

describe("a malformed secret key is refused without a request", () => {
  const malformedKeys = [
    { key: "pk_test_abc", message: /publishable keys cannot call the merchant API/ },
    { key: "", message: /expected sk_test_… or sk_live_…/ },
    { key: "sk_test_abc", message: /checksum/ },
    { key: `${formatToken("secretKey", "test", "A".repeat(43)).slice(0, -1)}x`, message: /checksum/ },
  ];

  it.each(malformedKeys)("secretKey $key", async ({ key, message }) => {
    // Routed nowhere: had a request been sent, the error would be CONNECTION_FAILED.
    const billing = new BillingOS({ secretKey: key, sandboxUrl: NOWHERE, productionUrl: NOWHERE });
    const error = await billingOSErrorOf(() => billing.createSessionToken({ externalUserId: "u1" }));
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toMatch(message);
    expect(() => billing.apiUrl).toThrow(BillingOSError);
  });

  it("does not throw at construction, so importing a module that builds a client stays safe", () => {
    expect(() => new BillingOS({ secretKey: "" })).not.toThrow();
  });
});

describe("when nothing answers", () => {
  it("a valid call to a URL where nothing listens is CONNECTION_FAILED", async () => {
    const billing = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: NOWHERE, productionUrl: NOWHERE });
    const error = await billingOSErrorOf(() => billing.createSessionToken({ externalUserId: "u1" }));
    expect(error.code).toBe("CONNECTION_FAILED");
    expect(error.httpStatus).toBeUndefined();
    // The first words name the URL tried, and the innermost cause says why.
    expect(error.message.startsWith(`Could not reach BillingOS at ${NOWHERE}: `)).toBe(true);
    expect(error.cause).toBeDefined();
  });

  it("a server that has been shut down is CONNECTION_FAILED too", async () => {
    const gone = await startServerHarness();
    const billing = gone.client(gone.testKey.secretKey);
    await gone.close();
    const error = await billingOSErrorOf(() => billing.verifySessionToken("bos_session_test_x"));
    expect(error.code).toBe("CONNECTION_FAILED");
    expect(error.message).toMatch(
      /^Could not reach BillingOS at http:\/\/\S+: connect ECONNREFUSED \S+ \(is the server running on that port\?\)$/,
    );
  });
});

describe("when something other than the BillingOS API answers", () => {
  it("a misconfigured base URL that answers 404 is reported with that status, not as unreachable", async () => {
    // The server answers here (a plain 404 outside /trpc/), so this is not a connection failure:
    // BillingOSError documents CONNECTION_FAILED as "no answer came back at all".
    const billing = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: `${h.url}/api`, productionUrl: h.url });
    const error = await billingOSErrorOf(() => billing.createSessionToken({ externalUserId: "u1" }));
    expect(error.httpStatus).toBe(404);
    expect(error.code).not.toBe("CONNECTION_FAILED");
  });
});
