import { expect } from "vitest";
import type { z } from "zod";
import { type ValidationDetails, validationDetailsOf, validationMessageOf } from "../../src/index.js";

/** The start of the input's JSON, for a failure message (some inputs are too deep, cyclic or not JSON at all). */
function shown(input: unknown): string {
  try {
    return JSON.stringify(input)?.slice(0, 80) ?? String(input);
  } catch {
    return "(an input JSON cannot show)";
  }
}

/**
 * Asserts that `input` fails `schema` with an error on `field` (a dotted path, or "" for a
 * whole-object rule reported in formErrors) and that the one-line message names the field.
 */
export function expectInvalid(
  schema: z.ZodType,
  input: unknown,
  field: string,
  names: string = field,
): ValidationDetails {
  const result = schema.safeParse(input);
  expect(result.success, `expected ${shown(input)} to be rejected`).toBe(false);
  if (result.success) throw new Error("unreachable");
  const details = validationDetailsOf(result.error);
  if (field === "") {
    expect(details.formErrors.length).toBeGreaterThan(0);
  } else {
    expect(
      details.fieldErrors[field]?.length ?? 0,
      `fieldErrors: ${JSON.stringify(details.fieldErrors)}`,
    ).toBeGreaterThan(0);
  }
  expect(validationMessageOf(details)).toContain(names);
  return details;
}

export function expectValid<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    expect.fail(validationMessageOf(validationDetailsOf(result.error)));
  }
  return result.data as z.output<S>;
}
