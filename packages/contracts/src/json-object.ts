import { z } from "zod";
import { isWellFormedUnicode, wellFormedMessage } from "./text.js";

/**
 * JSON objects sent by callers (session-token metadata, Stripe metadata), checked WITHOUT recursion.
 *
 * zod's z.json() validates by recursion, and a body nested a few thousand levels deep overflows the
 * stack. Worse, zod 4.6's parse memoizer keeps a module-level stack of half-built containers that
 * is only unwound when a parse returns: the RangeError skips that, so every such request left
 * ~1,300 entries (~140 KB) in it for good, and a stream of them ran the process out of memory.
 * Here one iterative walk (an explicit stack) checks the shape, the depth, the number of values and
 * well-formed Unicode before anything recursive (zod, JSON.stringify) sees the value, and the value
 * is passed on as sent: no key is dropped, `__proto__` and `constructor` included (they are own
 * data properties after JSON.parse, and nothing here assigns them onto another object).
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface JsonObjectLimits {
  /** The field's name, for messages ("metadata"). */
  field: string;
  /** Levels of nesting, the object itself being level 1. */
  maxDepth: number;
  /** Object members plus array items, counted over the whole value. */
  maxValues: number;
  /** UTF-8 bytes of the value's JSON serialization. */
  maxBytes: number;
  /** Stripe's model: every value is a string (so maxDepth is 1). */
  stringValuesOnly?: boolean;
}

export interface JsonProblem {
  /** Where, relative to the object (empty: the object as a whole). */
  path: (string | number)[];
  message: string;
}

/** An object a JSON parser could have produced: no Date, Map, class instance or boxed value. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

interface Pending {
  value: Record<string, unknown> | unknown[];
  depth: number;
  path: (string | number)[];
}

const utf8 = new TextEncoder();

/**
 * The first rule `value` breaks, or null. Iterative and stops at the first problem, so its work is
 * bounded by `maxValues` whatever the input's size or depth; only then is the value serialized
 * (at most `maxDepth` deep by then) to count its bytes.
 */
export function jsonObjectProblem(value: unknown, limits: JsonObjectLimits): JsonProblem | null {
  const { field, maxDepth, maxValues, maxBytes, stringValuesOnly = false } = limits;
  if (!isPlainObject(value)) return { path: [], message: `${field} must be a JSON object` };
  const pending: Pending[] = [{ value, depth: 1, path: [] }];
  let values = 0;
  while (pending.length > 0) {
    const { value: container, depth, path } = pending.pop()!;
    const isArray = Array.isArray(container);
    const keys = isArray ? null : Object.keys(container);
    const count = keys === null ? (container as unknown[]).length : keys.length;
    // Counted before any item is read: a huge (or sparse, in-process) array is refused at once.
    values += count;
    if (values > maxValues)
      return { path: [], message: `${field} must hold at most ${maxValues} keys and array items in all` };
    for (let index = 0; index < count; index++) {
      const key: string | number = keys === null ? index : keys[index]!;
      if (typeof key === "string" && !isWellFormedUnicode(key)) {
        return { path, message: wellFormedMessage(`${field} keys`) };
      }
      const item = keys === null ? (container as unknown[])[index] : (container as Record<string, unknown>)[key];
      const itemPath = [...path, key];
      if (typeof item === "string") {
        if (!isWellFormedUnicode(item)) return { path: itemPath, message: wellFormedMessage(`${field} values`) };
        continue;
      }
      if (stringValuesOnly) return { path: itemPath, message: `${field} values must be strings` };
      if (typeof item === "number") {
        if (!Number.isFinite(item)) return { path: itemPath, message: `${field} numbers must be finite` };
        continue;
      }
      if (item === null || typeof item === "boolean") continue;
      if (Array.isArray(item) || isPlainObject(item)) {
        // A cycle (possible only in-process) is refused here too: it is infinitely deep.
        if (depth + 1 > maxDepth) return { path: [], message: `${field} must be at most ${maxDepth} levels deep` };
        pending.push({ value: item, depth: depth + 1, path: itemPath });
        continue;
      }
      return {
        path: itemPath,
        message: `${field} values must be JSON: a string, number, boolean, null, array or object`,
      };
    }
  }
  const bytes = utf8.encode(JSON.stringify(value)).length;
  if (bytes > maxBytes)
    return { path: [], message: `${field} must be at most ${maxBytes} bytes of JSON (got ${bytes})` };
  return null;
}

/**
 * A JSON object within `limits`, as an input schema. The walk runs first and alone: zod itself
 * never descends into the value, which comes out exactly as it went in. Built on z.unknown() (not
 * z.custom) so that the JSON Schema of the contracts can still be generated without options; the
 * type is declared because the walk is what guarantees it.
 */
export function boundedJsonObject<T extends JsonObject = JsonObject>(limits: JsonObjectLimits): z.ZodType<T, T> {
  const stringsOnly = limits.stringValuesOnly === true;
  const schema = z
    .unknown()
    .superRefine((value, ctx) => {
      const problem = jsonObjectProblem(value, limits);
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem.message, path: problem.path });
    })
    .meta({
      type: "object",
      additionalProperties: stringsOnly ? { type: "string" } : {},
      description:
        (stringsOnly
          ? `A flat JSON object of string values: at most ${limits.maxValues} keys and ${limits.maxBytes} bytes serialized`
          : `A JSON object of at most ${limits.maxBytes} bytes serialized, ${limits.maxDepth} levels deep and ` +
            `${limits.maxValues} keys and array items in all`) +
        "; keys and strings are well-formed Unicode. Keys come back exactly as sent.",
    });
  return schema as unknown as z.ZodType<T, T>;
}

/**
 * A JSON object as an answer carries it back from storage. It was checked when it came in, and
 * rows an older version stored may be deeper than today's limits: an answer must never fail on
 * them (that would be a 500 for every later list), so this only checks the top level, in O(1),
 * and never recurses.
 */
export function storedJsonObject<T extends JsonObject = JsonObject>(
  description: string,
  values: { type: "string" } | Record<string, never> = {},
): z.ZodType<T, T> {
  const schema = z
    .unknown()
    .refine(isPlainObject, { error: "must be a JSON object" })
    .meta({ type: "object", additionalProperties: values, description });
  return schema as unknown as z.ZodType<T, T>;
}
