import { z } from "zod";

/**
 * A procedure's input object: zod's strict object, behind a gate that counts its keys first.
 *
 * zod reports every unknown key of a strict object in one issue, and tRPC turns the failure into
 * an error whose message is zod's issues as indented JSON: 95,000 short unknown keys (0.9 MB of
 * body) cost 30 ms and a 2.4 MB string per request before the answer was even shaped. An object
 * with more keys than its schema has fields must hold an unknown one, so it is refused here
 * without going further: the first unknown names and the count, nothing else. An object within
 * that size goes on to zod as before, whose unknown-key list is then as short as the shape.
 */

/** Unknown names the gate keeps for the answer (validationDetailsOf lists at most 20 fields in all). */
export const MAX_UNKNOWN_FIELDS_KEPT = 20;

/** The `params` of the issue the gate raises: read by validationDetailsOf like zod's unrecognized_keys. */
export interface TooManyFieldsParams {
  tooManyFields: true;
  /** The first unknown names, in the input's order. */
  unknownFields: string[];
  /** All unknown names, listed or not. */
  unknownFieldCount: number;
}

export function isTooManyFieldsParams(params: unknown): params is TooManyFieldsParams {
  return (
    typeof params === "object" && params !== null && (params as Partial<TooManyFieldsParams>).tooManyFields === true
  );
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keys of `input` not in `known`, the first few kept and all counted; null when there are no more keys than fields. */
function excessKeys(input: Record<string, unknown>, known: ReadonlySet<string>): TooManyFieldsParams | null {
  let total = 0;
  // Cheap first: most inputs are within the shape's size, and counting stops at the first key too many.
  for (const _ in input) if (++total > known.size) break;
  if (total <= known.size) return null;
  const unknownFields: string[] = [];
  let unknownFieldCount = 0;
  for (const key in input) {
    if (known.has(key)) continue;
    unknownFieldCount += 1;
    if (unknownFields.length < MAX_UNKNOWN_FIELDS_KEPT) unknownFields.push(key);
  }
  return { tooManyFields: true, unknownFields, unknownFieldCount };
}

export function inputObject<const Shape extends z.ZodRawShape>(
  shape: Shape,
  params?: Parameters<typeof z.strictObject>[1],
) {
  const object = z.strictObject(shape, params);
  const known: ReadonlySet<string> = new Set(Object.keys(shape));
  type Input = z.input<typeof object>;
  // Typed as the object's own input, so the pipe's input and output types are exactly the object's.
  // (The cast only drops zod's Awaited<…> of the result, which TypeScript cannot reduce for a generic shape.)
  const gate = z.transform((input: Input, ctx) => {
    const excess = isPlainRecord(input) ? excessKeys(input, known) : null;
    if (excess === null) return input;
    ctx.issues.push({ code: "custom", message: "Unknown fields", input, params: excess });
    return z.NEVER;
  }) as unknown as z.ZodTransform<Input, Input>;
  return gate.pipe(object);
}
