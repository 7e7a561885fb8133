import { describe, expect, it } from "vitest";
import {
  createSessionTokenInput,
  customerToImport,
  jsonObject,
  MAX_METADATA_DEPTH,
  MAX_METADATA_VALUES,
  metadata,
  stripeMetadata,
} from "../src/index.js";
import { expectInvalid, expectValid } from "./support/expect-invalid.js";

// SPEC §6: metadata is "a JSON object of at most 8 KiB serialized and of bounded depth, checked
// before any recursive validation". The walk is iterative; these tests pin its limits, and that
// the value comes out exactly as it went in (no key dropped, __proto__ included).

const create = (value: unknown) => ({ externalUserId: "u", metadata: value });

/** `{"a":{"a":…{"a":1}}}` with `depth` levels of object, the outermost included. */
function nestedObjects(depth: number): Record<string, unknown> {
  let value: unknown = 1;
  for (let level = 0; level < depth; level++) value = { a: value };
  return value as Record<string, unknown>;
}

describe("metadata depth (at most 8 levels, the object itself being level 1)", () => {
  it("accepts 8 levels of objects, and of objects and arrays mixed, returned as sent", () => {
    expect(MAX_METADATA_DEPTH).toBe(8);
    const objects = nestedObjects(8);
    expect(expectValid(createSessionTokenInput, create(objects)).metadata).toBe(objects);
    const mixed = { a: [{ b: [{ c: [{ d: [1] }] }] }] };
    expect(expectValid(createSessionTokenInput, create(mixed)).metadata).toEqual(mixed);
  });

  it.each([
    ["9 levels of objects", nestedObjects(9)],
    ["9 levels, arrays inside", { a: [[[[[[[["deep"]]]]]]]] }],
    ["100,000 levels of arrays", { a: JSON.parse(`${"[".repeat(100_000)}1${"]".repeat(100_000)}`) as unknown }],
    ["100,000 levels of objects", JSON.parse(`${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`) as unknown],
  ])("refuses %s with a message naming the limit, without throwing", (_name, value) => {
    const details = expectInvalid(createSessionTokenInput, create(value), "metadata");
    expect(details.fieldErrors.metadata).toEqual(["metadata must be at most 8 levels deep"]);
  });

  it("refuses a cycle (possible only in-process) as too deep", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(expectInvalid(metadata, cyclic, "").formErrors).toEqual(["metadata must be at most 8 levels deep"]);
  });
});

describe("metadata size (1024 keys and array items in all, 8 KiB)", () => {
  it("accepts 1024 values and refuses 1025, counting keys at every level and array items", () => {
    expect(MAX_METADATA_VALUES).toBe(1024);
    // One key plus 1023 items = 1024 values.
    expectValid(createSessionTokenInput, create({ a: Array.from({ length: 1023 }, () => 0) }));
    const details = expectInvalid(
      createSessionTokenInput,
      create({ a: Array.from({ length: 1024 }, () => 0) }),
      "metadata",
    );
    expect(details.fieldErrors.metadata).toEqual(["metadata must hold at most 1024 keys and array items in all"]);
    expectInvalid(
      createSessionTokenInput,
      create(Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`k${i}`, 1]))),
      "metadata",
    );
  });

  it("refuses a huge sparse array at once (its length is counted before any item is read)", () => {
    const sparse: unknown[] = [];
    sparse.length = 2 ** 32 - 1;
    expectInvalid(createSessionTokenInput, create({ a: sparse }), "metadata");
  });
});

describe("metadata keys are kept exactly as sent", () => {
  it("keeps __proto__ (an own property, as JSON.parse makes it) and constructor, at every level", () => {
    const sent = '{"__proto__":{"a":1},"constructor":"x","nested":{"__proto__":[1],"prototype":{"constructor":2}}}';
    const parsed = expectValid(createSessionTokenInput, create(JSON.parse(sent))).metadata!;
    expect(Object.keys(parsed)).toEqual(["__proto__", "constructor", "nested"]);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(JSON.stringify(parsed)).toBe(sent);
  });

  it("accepts an object without prototype (Object.create(null))", () => {
    const value = Object.assign(Object.create(null) as Record<string, unknown>, { ip: "203.0.113.9" });
    expect(expectValid(metadata, value)).toBe(value);
  });
});

describe("metadata values must be JSON", () => {
  it.each([
    ["NaN", { n: Number.NaN }, "metadata.n", "finite"],
    ["Infinity", { n: [Number.POSITIVE_INFINITY] }, "metadata.n.0", "finite"],
    ["undefined", { u: undefined }, "metadata.u", "must be JSON"],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the input under test
    ["a hole in an array", { h: [1, , 3] }, "metadata.h.1", "must be JSON"],
    ["a Map", { m: new Map() }, "metadata.m", "must be JSON"],
    ["a class instance", { c: new (class Point {})() }, "metadata.c", "must be JSON"],
    ["a bigint", { b: 1n }, "metadata.b", "must be JSON"],
    ["a lone surrogate in a nested value", { a: { b: ["ok", "\ud800"] } }, "metadata.a.b.1", "well-formed Unicode"],
    [
      "a lone surrogate in a nested key",
      { a: { "\udc00": 1 } },
      "metadata.a",
      "metadata keys must be well-formed Unicode",
    ],
  ])("refuses %s, naming where", (_name, value, field, message) => {
    const details = expectInvalid(createSessionTokenInput, create(value), field);
    expect(details.fieldErrors[field]!.join(" ")).toContain(message);
  });
});

describe("Stripe metadata (a flat map of strings)", () => {
  it("keeps every key as sent, __proto__ included", () => {
    const sent = '{"__proto__":"p","constructor":"c","user_id":"u1"}';
    const parsed = expectValid(customerToImport, { stripeCustomerId: "cus_A1", metadata: JSON.parse(sent) }).metadata!;
    expect(JSON.stringify(parsed)).toBe(sent);
  });

  it.each([
    ["a number value", { plan: 1 }],
    ["a nested object", { plan: { tier: "pro" } }],
    ["a deep nesting", { plan: JSON.parse(`${"[".repeat(50_000)}${"]".repeat(50_000)}`) as unknown }],
    ["a lone surrogate", { plan: "pro\ud800" }],
  ])("refuses %s", (_name, value) => {
    const result = stripeMetadata.safeParse(value);
    expect(result.success).toBe(false);
  });
});

describe("stored metadata in answers (jsonObject)", () => {
  it("passes any stored JSON object through unchanged, however deep, in O(1)", () => {
    const deep = JSON.parse(`{"a":${"[".repeat(50_000)}1${"]".repeat(50_000)}}`) as Record<string, never>;
    expect(jsonObject.parse(deep)).toBe(deep);
    const proto = JSON.parse('{"__proto__":{"a":1}}') as Record<string, never>;
    expect(JSON.stringify(jsonObject.parse(proto))).toBe('{"__proto__":{"a":1}}');
  });
});
