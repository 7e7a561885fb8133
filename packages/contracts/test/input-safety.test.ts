import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as contracts from "../src/index.js";
import {
  bindCustomerInput,
  createSessionTokenInput,
  echoableName,
  getCustomerInput,
  hasLoneSurrogate,
  importCustomersInput,
  listCustomerAuditEventsInput,
  listSessionTokensInput,
  listUnresolvedCustomersInput,
  revokeCustomerSessionTokensInput,
  revokeSessionTokenInput,
  validationDetailsOf,
  validationMessageOf,
  verifySessionTokenInput,
} from "../src/index.js";

// Class-level checks over every input schema of the API: whatever is put in any field, parsing
// never throws (no recursion a deep value can overflow), never repeats a credential-shaped value or
// name back, and refuses a lone surrogate in any string field with a message naming the field.

/** Every input schema, with a valid input (so a field can be damaged one at a time). */
const INPUTS: Record<string, [schema: z.ZodType, valid: Record<string, unknown>]> = {
  createSessionTokenInput: [
    createSessionTokenInput,
    {
      externalUserId: "u",
      email: "a@example.com",
      externalOrganizationId: "o",
      expiresIn: 60,
      allowedOperations: ["customer:read"],
      metadata: { ip: "x" },
    },
  ],
  verifySessionTokenInput: [
    verifySessionTokenInput,
    { sessionToken: "bos_session_test_x", operation: "customer:read" },
  ],
  revokeSessionTokenInput: [revokeSessionTokenInput, { tokenId: "tok_01hzx3k5m7n9p1q3r5s7t9v1w3" }],
  listSessionTokensInput: [
    listSessionTokensInput,
    { externalUserId: "u", status: "all", limit: 5, cursor: "tok_01hzx3k5m7n9p1q3r5s7t9v1w3" },
  ],
  revokeCustomerSessionTokensInput: [revokeCustomerSessionTokensInput, { externalUserId: "u" }],
  importCustomersInput: [
    importCustomersInput,
    {
      customers: [{ stripeCustomerId: "cus_A1", email: "a@example.com", name: "A", metadata: { k: "v" } }],
      dryRun: true,
    },
  ],
  listUnresolvedCustomersInput: [
    listUnresolvedCustomersInput,
    { reason: "no_email", limit: 5, cursor: "imp_01hzx3k5m7n9p1q3r5s7t9v1w3" },
  ],
  bindCustomerInput: [bindCustomerInput, { stripeCustomerId: "cus_A1", externalUserId: "u" }],
  getCustomerInput: [getCustomerInput, { stripeCustomerId: "cus_A1" }],
  listCustomerAuditEventsInput: [
    listCustomerAuditEventsInput,
    { externalUserId: "u", limit: 5, cursor: "evt_01hzx3k5m7n9p1q3r5s7t9v1w3" },
  ],
};

/** Each top-level field of `valid` with `value` in its place, and the same inside an import row. */
function damaged(valid: Record<string, unknown>, value: unknown): Array<[field: string, input: unknown]> {
  const out: Array<[string, unknown]> = Object.keys(valid).map((field) => [field, { ...valid, [field]: value }]);
  const rows = valid.customers as Array<Record<string, unknown>> | undefined;
  if (rows)
    for (const field of Object.keys(rows[0]!))
      out.push([`customers.0.${field}`, { ...valid, customers: [{ ...rows[0], [field]: value }] }]);
  return out;
}

const deepArray = JSON.parse(`${"[".repeat(100_000)}"x"${"]".repeat(100_000)}`) as unknown;
const deepObject = JSON.parse(`${'{"a":'.repeat(100_000)}"x"${"}".repeat(100_000)}`) as unknown;
const SECRET_LIKE = `sk_live_${"Zq9".repeat(15)}`;

describe.each(Object.entries(INPUTS))("%s", (_name, [schema, valid]) => {
  it("accepts its valid input (the control)", () => {
    expect(schema.safeParse(valid).success).toBe(true);
  });

  it("never throws on a value nested 100,000 levels in any field, and refuses it", () => {
    for (const value of [deepArray, deepObject, { nested: deepObject }]) {
      for (const [field, input] of damaged(valid, value)) {
        const result = schema.safeParse(input);
        expect(result.success, field).toBe(false);
      }
    }
  });

  it("never repeats a credential-shaped value or field name in its messages", () => {
    const inputs = [
      ...damaged(valid, SECRET_LIKE),
      ...damaged(valid, [SECRET_LIKE]),
      ["(unknown field)", { ...valid, [SECRET_LIKE]: 1 }] as const,
    ];
    for (const [field, input] of inputs) {
      const result = schema.safeParse(input);
      if (result.success) continue;
      const details = validationDetailsOf(result.error);
      const shown = `${validationMessageOf(details)} ${JSON.stringify(details)}`;
      expect(shown, field).not.toContain("Zq9Zq9");
    }
  });

  it("refuses a lone surrogate in any string field, naming the field", () => {
    for (const [field, input] of damaged(valid, "ab\ud800cd")) {
      const original = field.startsWith("customers.0.")
        ? (valid.customers as Array<Record<string, unknown>>)[0]![field.slice(12)]
        : valid[field];
      if (typeof original !== "string") continue;
      const result = schema.safeParse(input);
      expect(result.success, field).toBe(false);
      if (result.success) continue;
      expect(Object.keys(validationDetailsOf(result.error).fieldErrors), field).toContain(field);
    }
  });
});

describe("no wire schema is recursive", () => {
  // zod 4.6's parse memoizer engages only for recursive schemas, and it keeps a module-level stack
  // that a thrown parse (a stack overflow) never unwinds: that was the leak of deep metadata. With no
  // recursive schema on the wire, no input can reach it; a new z.json()/z.lazy() fails here first.
  const wire: Array<[string, z.ZodType]> = [];
  for (const [name, value] of Object.entries(contracts) as Array<[string, unknown]>)
    if (value instanceof z.ZodType) wire.push([name, value]);

  it("holds for every exported schema, inputs and answers", () => {
    expect(wire.length).toBeGreaterThan(30);
    expect(wire.filter(([, schema]) => z.core.isRecursiveSchema(schema)).map(([name]) => name)).toEqual([]);
  });

  it("the check sees recursion where there is some (so the test above can fail)", () => {
    expect(z.core.isRecursiveSchema(z.object({ metadata: z.record(z.string(), z.json()) }))).toBe(true);
  });
});

describe("hasLoneSurrogate (the portable fallback) agrees with String.prototype.isWellFormed", () => {
  it("on every string of up to 3 code units drawn from the boundaries of the surrogate ranges", () => {
    const units = [0x41, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000];
    const strings = [""];
    for (let length = 1; length <= 3; length++) {
      for (const prefix of strings.filter((s) => s.length === length - 1))
        for (const unit of units) strings.push(prefix + String.fromCharCode(unit));
    }
    const isWellFormed = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed();
    for (const s of strings) expect(hasLoneSurrogate(s), JSON.stringify(s)).toBe(!isWellFormed(s));
  });
});

describe("echoableName", () => {
  it.each(["expiresin", "opration", "userId", "task_id", "risk_level", "expiresIn ", "a".repeat(32)])(
    "repeats %j",
    (name) => {
      expect(echoableName(name)).toBe(true);
    },
  );

  it.each([
    "a".repeat(33),
    "sk_test_abc",
    "SK_LIVE_abc",
    "pk_test_abc",
    "bos_session_test_abc",
    "x.bos_session_live_abc",
    "naïve",
    "tab\there",
    "lone\ud800",
  ])("does not repeat %j", (name) => {
    expect(echoableName(name)).toBe(false);
  });

  it("describes a hidden unknown field by its length, in the message and the field key", () => {
    const result = createSessionTokenInput.safeParse({
      externalUserId: "u",
      [`bos_session_test_${"x".repeat(49)}`]: 1,
    });
    expect(result.success).toBe(false);
    if (result.success) return;
    const details = validationDetailsOf(result.error);
    expect(details.fieldErrors).toEqual({
      "[name not shown: 66 characters]": ["Unknown field (name not shown: 66 characters)"],
    });
  });
});
