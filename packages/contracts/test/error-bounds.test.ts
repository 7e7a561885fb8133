import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  createSessionTokenInput,
  importCustomersInput,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_FIELD_ERRORS,
  MAX_FIELDS_IN_MESSAGE,
  MAX_FORM_ERRORS,
  MAX_IMPORT_BATCH,
  MAX_MESSAGES_PER_FIELD,
  type ValidationDetails,
  validationDetails,
  validationDetailsOf,
  validationMessageOf,
} from "../src/index.js";

// An error answer is bounded whatever the input: a body of 95,000 short unknown keys once came back
// as a 6 MB answer listing every key, in `message` and in `fieldErrors` alike.

/** What the server puts in an error answer for these details: the message and the data. */
function answerBytes(details: ValidationDetails): number {
  return JSON.stringify({ message: validationMessageOf(details), data: details }).length;
}

function refusal(schema: z.ZodType, input: unknown): ValidationDetails {
  const result = schema.safeParse(input);
  if (result.success) throw new Error("expected a refusal");
  return validationDetailsOf(result.error);
}

/** `{ externalUserId: "u", "0": 1, "1": 1, … }`: the attacker's body, about 0.9 MB of JSON at 95,000 keys. */
function manyUnknownKeys(count: number, name = (i: number) => String(i)): Record<string, unknown> {
  const input: Record<string, unknown> = { externalUserId: "u" };
  for (let i = 0; i < count; i++) input[name(i)] = 1;
  return input;
}

describe("validation errors are bounded", () => {
  it("95,000 unknown keys: a small answer naming the first unknown fields and counting the rest", () => {
    const details = refusal(createSessionTokenInput, manyUnknownKeys(95_000));
    expect(Object.keys(details.fieldErrors)).toHaveLength(MAX_FIELD_ERRORS);
    expect(details.fieldErrors["0"]).toEqual(['Unknown field "0"']);
    expect(details.fieldErrors[String(MAX_FIELD_ERRORS - 1)]).toEqual([`Unknown field "${MAX_FIELD_ERRORS - 1}"`]);
    expect(details.unlistedUnknownFields).toBe(95_000 - MAX_FIELD_ERRORS);
    expect(details.unlistedProblems).toBeUndefined();
    const message = validationMessageOf(details);
    expect(message).toMatch(/^Invalid input: 0: Unknown field "0"\. 1: Unknown field "1"\./);
    expect(message).toContain(`… and ${(95_000 - MAX_FIELDS_IN_MESSAGE).toLocaleString("en-US")} more unknown fields`);
    expect(message).not.toContain(`"${MAX_FIELDS_IN_MESSAGE}"`);
    expect(answerBytes(details)).toBeLessThan(8 * 1024);
    // The data still matches the published error shape.
    expect(validationDetails.safeParse(details).success).toBe(true);
  });

  it("an object with more keys than its schema has fields is refused on its unknown fields alone", () => {
    const details = refusal(createSessionTokenInput, {
      ...manyUnknownKeys(1_000, (i) => `k${i}`),
      expiresIn: 1,
      email: "x",
    });
    expect(Object.keys(details.fieldErrors)).toEqual(Array.from({ length: MAX_FIELD_ERRORS }, (_, i) => `k${i}`));
    expect(details.unlistedUnknownFields).toBe(1_000 - MAX_FIELD_ERRORS);
    expect(validationMessageOf(details)).toContain(`… and ${1_000 - MAX_FIELDS_IN_MESSAGE} more unknown fields`);
  });

  it("within the schema's size, real field errors come first, then the unknown fields", () => {
    const details = refusal(createSessionTokenInput, { externalUserId: "u", expiresIn: 1, email: "x", k0: 1, k1: 1 });
    expect(Object.keys(details.fieldErrors)).toEqual(["email", "expiresIn", "k0", "k1"]);
    expect(validationMessageOf(details)).toBe(
      'Invalid input: email: email must be a valid email address. expiresIn: expiresIn must be at least 60 seconds. k0: Unknown field "k0". k1: Unknown field "k1"',
    );
  });

  // tRPC builds its error message from zod's issues as indented JSON, eagerly: with every unknown
  // key in one issue, that was a 2.4 MB string (and 30 ms) per 0.9 MB body, before any formatting.
  it("zod's own error stays small: the key gate keeps 20 names and a count, not 95,000 names", () => {
    const result = createSessionTokenInput.safeParse(manyUnknownKeys(95_000));
    expect(result.success).toBe(false);
    expect(result.error!.issues).toHaveLength(1);
    expect(result.error!.message.length).toBeLessThan(2_048);
    const nested = importCustomersInput.safeParse({ customers: [manyUnknownKeys(50_000)] });
    expect(nested.error!.message.length).toBeLessThan(2_048);
    expect(validationDetailsOf(nested.error!).unlistedUnknownFields).toBe(50_001 - MAX_FIELD_ERRORS);
  });

  it("customers.import with 1,000 bad customers: the first problems listed, the rest counted", () => {
    const customers = Array.from({ length: MAX_IMPORT_BATCH }, (_, i) => ({
      stripeCustomerId: `bad_${i}`,
      email: 5,
      name: 6,
    }));
    const details = refusal(importCustomersInput, { customers });
    expect(Object.keys(details.fieldErrors)).toHaveLength(MAX_FIELD_ERRORS);
    expect(details.fieldErrors["customers.0.stripeCustomerId"]).toEqual([
      "stripeCustomerId must be a Stripe customer id (cus_…)",
    ]);
    expect(details.unlistedProblems).toBe(3 * MAX_IMPORT_BATCH - MAX_FIELD_ERRORS);
    const message = validationMessageOf(details);
    expect(message).toContain(
      `… and ${(3 * MAX_IMPORT_BATCH - MAX_FIELDS_IN_MESSAGE).toLocaleString("en-US")} more problems`,
    );
    expect(answerBytes(details)).toBeLessThan(8 * 1024);
  });

  it("1,000 customers each with an unknown field: both kinds counted, the answer stays small", () => {
    const customers = Array.from({ length: MAX_IMPORT_BATCH }, (_, i) => ({
      stripeCustomerId: `cus_${i}`,
      extra: 1,
      ["k".repeat(800)]: 1,
    }));
    const details = refusal(importCustomersInput, { customers });
    expect(details.fieldErrors["customers.0.extra"]).toEqual(['Unknown field "extra"']);
    expect((details.unlistedUnknownFields ?? 0) + Object.keys(details.fieldErrors).length).toBe(2 * MAX_IMPORT_BATCH);
    expect(answerBytes(details)).toBeLessThan(8 * 1024);
  });

  it("bounds each message, the messages per field and the form errors", () => {
    const long = z
      .strictObject({ a: z.string() })
      .check(z.refine(() => false, { error: "x".repeat(10_000), path: ["a"] }))
      .check(z.refine(() => false, { error: "y".repeat(10_000), path: ["a"] }))
      .check(z.refine(() => false, { error: "z", path: ["a"] }))
      .check(z.refine(() => false, { error: "w", path: ["a"] }));
    const forms = z
      .strictObject({})
      .check(...Array.from({ length: 10 }, (_, i) => z.refine(() => false, { error: `form ${i}` })));
    const details = refusal(long, { a: "" });
    expect(details.fieldErrors.a).toHaveLength(MAX_MESSAGES_PER_FIELD);
    expect(details.fieldErrors.a![0]).toHaveLength(MAX_ERROR_MESSAGE_LENGTH);
    expect(details.fieldErrors.a![0]!.endsWith("…")).toBe(true);
    expect(details.unlistedProblems).toBe(1);
    expect(validationMessageOf(details)).toMatch(/… and 1 more problem$/);
    const formDetails = refusal(forms, {});
    expect(formDetails.formErrors).toHaveLength(MAX_FORM_ERRORS);
    expect(formDetails.unlistedProblems).toBe(10 - MAX_FORM_ERRORS);
  });

  it("under the limits, details and message are as before: no counts, nothing cut", () => {
    const details = refusal(createSessionTokenInput, { externalUserId: "u", expiresin: 60 });
    expect(details).toEqual({ fieldErrors: { expiresin: ['Unknown field "expiresin"'] }, formErrors: [] });
    expect(validationMessageOf(details)).toBe('Invalid input: expiresin: Unknown field "expiresin"');
  });
});
