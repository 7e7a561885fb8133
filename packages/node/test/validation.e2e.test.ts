import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError, type CreateSessionTokenInput } from "../src/index.js";
import { NOWHERE, postTrpc, rejectionOf, type ServerHarness, startServerHarness } from "./server-harness.js";

let h: ServerHarness;
beforeAll(async () => {
  h = await startServerHarness();
});
afterAll(() => h.close());

/** `{"m":"xxx…"}` is 8 bytes of JSON around the string. */
const metadataOfBytes = (bytes: number) => ({ m: "x".repeat(bytes - 8) });

interface BadCreateInput {
  name: string;
  input: Record<string, unknown>;
  field: string;
  message: RegExp;
}

const badCreateInputs: BadCreateInput[] = [
  {
    name: "expiresIn below 60",
    input: { externalUserId: "u1", expiresIn: 59 },
    field: "expiresIn",
    message: /at least 60/,
  },
  {
    name: "expiresIn above 86400",
    input: { externalUserId: "u1", expiresIn: 86_401 },
    field: "expiresIn",
    message: /at most 86400/,
  },
  {
    name: "fractional expiresIn",
    input: { externalUserId: "u1", expiresIn: 60.5 },
    field: "expiresIn",
    message: /whole number/,
  },
  {
    name: "an unknown field (typo)",
    input: { externalUserId: "u1", expiresin: 120 },
    field: "expiresin",
    message: /Unknown field "expiresin"/,
  },
  {
    name: "an empty externalUserId",
    input: { externalUserId: "" },
    field: "externalUserId",
    message: /must not be empty/,
  },
  {
    name: "a missing externalUserId",
    input: { email: "a@example.com" },
    field: "externalUserId",
    message: /externalUserId/,
  },
  {
    name: "a 256-character externalUserId",
    input: { externalUserId: "u".repeat(256) },
    field: "externalUserId",
    message: /at most 255/,
  },
  {
    name: "a bad email",
    input: { externalUserId: "u1", email: "not-an-email" },
    field: "email",
    message: /valid email/,
  },
  {
    name: "8193-byte metadata",
    input: { externalUserId: "u1", metadata: metadataOfBytes(8193) },
    field: "metadata",
    message: /got 8193/,
  },
  {
    name: "metadata that is not an object",
    input: { externalUserId: "u1", metadata: "ip=1" },
    field: "metadata",
    message: /JSON object/,
  },
  {
    name: "an unknown operation",
    input: { externalUserId: "u1", allowedOperations: ["customer:write"] },
    field: "allowedOperations.0",
    message: /Unknown operation "customer:write"\. Valid operations: customer:read, session:read, session:revoke/,
  },
  {
    name: "an empty allowedOperations",
    input: { externalUserId: "u1", allowedOperations: [] },
    field: "allowedOperations",
    message: /at least one/,
  },
];

interface ServerError {
  error: {
    message: string;
    data: { code: string; httpStatus: number; fieldErrors?: Record<string, string[]>; formErrors?: string[] };
  };
}

describe("createSessionToken rejects bad input before sending it, with the server's words", () => {
  it.each(badCreateInputs)("$name", async ({ input, field, message }) => {
    // Nothing listens here: a request would fail with CONNECTION_FAILED, not BAD_REQUEST.
    const offline = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: NOWHERE, productionUrl: NOWHERE });
    const error = await rejectionOf(() => offline.createSessionToken(input as unknown as CreateSessionTokenInput));
    expect(error).toBeInstanceOf(BillingOSError);
    const clientError = error as BillingOSError;
    expect(clientError.code).toBe("BAD_REQUEST");
    expect(clientError.httpStatus).toBe(400);
    expect(Object.keys(clientError.fieldErrors)).toContain(field);
    expect(clientError.fieldErrors[field]!.join(" ")).toMatch(message);
    expect(clientError.message).toContain(field);

    const server = await postTrpc(h.url, "sessionTokens.create", input, h.testKey.secretKey);
    expect(server.status).toBe(400);
    const { error: serverError } = server.json as ServerError;
    expect(serverError.data.code).toBe("BAD_REQUEST");
    expect(clientError.message).toBe(serverError.message);
    expect(clientError.fieldErrors).toEqual(serverError.data.fieldErrors);
    expect(clientError.formErrors).toEqual(serverError.data.formErrors);
  });

  it("accepts metadata of exactly 8192 bytes", async () => {
    const created = await h
      .client(h.testKey.secretKey)
      .createSessionToken({ externalUserId: "u1", metadata: metadataOfBytes(8192) });
    expect(created.sessionToken.startsWith("bos_session_test_")).toBe(true);
  });
});

describe("the other calls validate before sending too", () => {
  const offline = () => new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: NOWHERE, productionUrl: NOWHERE });

  it("verifySessionToken with an unknown operation", async () => {
    const error = await rejectionOf(() =>
      offline().verifySessionToken("bos_session_test_x", { operation: "customer:write" as "customer:read" }),
    );
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect((error as BillingOSError).fieldErrors.operation?.[0]).toMatch(/Valid operations/);

    const server = await postTrpc(
      h.url,
      "sessionTokens.verify",
      { sessionToken: "bos_session_test_x", operation: "customer:write" },
      h.testKey.secretKey,
    );
    expect((error as BillingOSError).message).toBe((server.json as ServerError).error.message);
  });

  it("revokeSessionToken with something that is neither a token id nor a token", async () => {
    const error = await rejectionOf(() => offline().revokeSessionToken("nope"));
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect(Object.keys((error as BillingOSError).fieldErrors)).toEqual(["tokenId"]);

    const server = await postTrpc(h.url, "sessionTokens.revoke", { tokenId: "nope" }, h.testKey.secretKey);
    expect(server.status).toBe(400);
    expect((error as BillingOSError).message).toBe((server.json as ServerError).error.message);
  });

  it("revokeCustomerSessionTokens with both or neither customer field", async () => {
    const neither = await rejectionOf(() => offline().revokeCustomerSessionTokens({}));
    expect(neither).toMatchObject({ code: "BAD_REQUEST" });
    expect((neither as BillingOSError).message).toMatch(/exactly one of externalUserId or externalOrganizationId/);

    const both = await rejectionOf(() =>
      offline().revokeCustomerSessionTokens({ externalUserId: "u1", externalOrganizationId: "o1" }),
    );
    expect(both).toMatchObject({ code: "BAD_REQUEST" });
  });

  it("listSessionTokens with a limit out of range", async () => {
    const error = await rejectionOf(() => offline().listSessionTokens({ externalUserId: "u1", limit: 101 }));
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect((error as BillingOSError).fieldErrors.limit?.[0]).toMatch(/at most 100/);
  });
});
