import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as customers from "../src/customers.js";
import { environment, errorCode, errorData, operation } from "../src/index.js";
import * as sessionTokens from "../src/session-tokens.js";

/**
 * Every zod schema exported by session-tokens.ts and customers.ts (so a new one lands in the snapshot by itself),
 * plus the shared enums and the error payload.
 */
const wireSchemas: Record<string, z.ZodType> = { environment, errorCode, errorData, operation };
for (const [name, value] of [...Object.entries(sessionTokens), ...Object.entries(customers)]) {
  if (value instanceof z.ZodType) wireSchemas[name] = value;
}

/** Schemas the server sends (decoded by the client); the rest are inputs or shared pieces. */
const OUTPUTS = new Set([
  "sessionTokenCreated",
  "sessionTokenRevoked",
  "sessionTokenVerification",
  "sessionTokenSummary",
  "sessionTokenPage",
  "customerSessionTokensRevoked",
  "sessionCustomer",
  "errorData",
  "customersImported",
  "importedCustomer",
  "unresolvedCustomer",
  "unresolvedCustomerPage",
]);

function jsonSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(wireSchemas).sort()) {
    const schema = wireSchemas[name]!;
    // "input" is the JSON form (ISO strings for timestamps). "output" is the in-code form, where a
    // Date (the codec's output) has no JSON Schema and appears as {}.
    out[name] = OUTPUTS.has(name)
      ? {
          input: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }),
          output: z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }),
        }
      : { input: z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) };
  }
  return out;
}

describe("JSON Schema of the contracts", () => {
  it("covers the wire schemas", () => {
    expect(Object.keys(wireSchemas)).toEqual(
      expect.arrayContaining([
        "createSessionTokenInput",
        "revokeSessionTokenInput",
        "verifySessionTokenInput",
        "listSessionTokensInput",
        "revokeCustomerSessionTokensInput",
        ...OUTPUTS,
        "invalidReason",
        "operation",
        "environment",
      ]),
    );
  });

  it("timestamps are ISO date-time strings on the wire", () => {
    const created = z.toJSONSchema(sessionTokens.sessionTokenCreated, { io: "input", unrepresentable: "any" });
    expect(created.properties?.expiresAt).toMatchObject({ type: "string", format: "date-time" });
  });

  it("inputs forbid unknown fields", () => {
    const create = z.toJSONSchema(sessionTokens.createSessionTokenInput, { io: "input" });
    expect(create.additionalProperties).toBe(false);
    expect(create.required).toEqual(["externalUserId"]);
  });

  // Any change to a wire shape changes this file: update it on purpose (vitest -u) or not at all.
  it("matches the committed snapshot", async () => {
    await expect(`${JSON.stringify(jsonSchemas(), null, 2)}\n`).toMatchFileSnapshot(
      "./__snapshots__/contracts.schema.json",
    );
  });
});
