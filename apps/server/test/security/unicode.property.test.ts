import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { createHarness, type Harness } from "../harness.js";
import { send } from "./http-client.js";
import {
  checkProperty,
  PROCEDURE_PATHS,
  PROPERTY_TIMEOUT_MS,
  procedureType,
  schemaAccepts,
  tableNames,
  writeFootprint,
} from "./support.js";

// Identifiers are canonical (SPEC §6: "well-formed Unicode"). A lone UTF-16 surrogate cannot be
// stored as UTF-8: it would come back as U+FFFD, merging two different user ids into one. For
// every procedure that takes input, a lone surrogate is injected into any string of a valid input
// (a value or a key, at any depth: ids, emails, names, cursors, enum fields, metadata keys and
// nested values) and the input is sent over real HTTP as raw JSON, where JSON.stringify writes it
// as a \ud800-style escape. The answer must be 400 BAD_REQUEST with a field error at that field,
// and nothing may be written.

const TOKEN_ID = "tok_01hzx3k5m7n9p1q3r5s7t9v1w3";
const SESSION_TOKEN = `bos_session_test_${"A".repeat(43)}xxxxxx`;

/** A valid input per procedure, holding every string field it takes (alternatives listed separately). */
const VALID_INPUTS: Record<string, unknown[]> = {
  "sessionTokens.create": [
    {
      externalUserId: "user_1",
      email: "user@example.com",
      externalOrganizationId: "org_1",
      allowedOperations: ["customer:read"],
      metadata: { ip: "203.0.113.9", nested: { ua: "curl", tags: ["a", { deeper: "b" }] } },
    },
  ],
  "sessionTokens.verify": [{ sessionToken: SESSION_TOKEN, operation: "customer:read" }],
  "sessionTokens.revoke": [{ tokenId: TOKEN_ID }, { sessionToken: SESSION_TOKEN }],
  "sessionTokens.list": [{ externalUserId: "user_1", status: "active", cursor: TOKEN_ID }],
  "sessionTokens.revokeForCustomer": [{ externalUserId: "user_1" }, { externalOrganizationId: "org_1" }],
  "customers.import": [
    {
      customers: [
        {
          stripeCustomerId: "cus_A1",
          email: "a@example.com",
          name: "Ada",
          metadata: { plan: "pro", external_id: "user_9" },
          createdAt: "2025-01-01T00:00:00.000Z",
        },
      ],
    },
  ],
  "customers.listUnresolved": [{ reason: "no_email", cursor: "imp_01hzx3k5m7n9p1q3r5s7t9v1w3" }],
  "customers.bind": [{ stripeCustomerId: "cus_A1", externalUserId: "user_1", rebind: true }],
  "customers.unbind": [{ stripeCustomerId: "cus_A1" }],
  "customers.get": [{ stripeCustomerId: "cus_A1" }, { externalUserId: "user_1" }],
  "audit.listForCustomer": [{ externalUserId: "user_1", cursor: "evt_01hzx3k5m7n9p1q3r5s7t9v1w3" }],
};

type Path = (string | number)[];
/** A string value at `path`, or the key that ends `path`. */
type Place = { kind: "value" | "key"; path: Path };

/** Every string value and every object key inside `value`. */
function stringPlaces(value: unknown, path: Path = []): Place[] {
  if (typeof value === "string") return [{ kind: "value", path }];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringPlaces(item, [...path, index]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => [
      { kind: "key" as const, path: [...path, key] },
      ...stringPlaces(item, [...path, key]),
    ]);
  }
  return [];
}

/** A copy of `root` with the string (or key) at `place` replaced by `change(old)`. Keys keep their order. */
function withChanged(root: unknown, place: Place, change: (old: string) => string): unknown {
  const rebuild = (value: unknown, rest: Path): unknown => {
    if (rest.length === 0) return place.kind === "value" ? change(value as string) : value;
    const [step, ...tail] = rest;
    if (Array.isArray(value)) return value.map((item, index) => (index === step ? rebuild(item, tail) : item));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const isTarget = key === step;
      const newKey = isTarget && tail.length === 0 && place.kind === "key" ? change(key) : key;
      Object.defineProperty(out, newKey, {
        value: isTarget ? rebuild(item, tail) : item,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  };
  return rebuild(root, place.path);
}

/** A lone surrogate (high without low, low without high, or a reversed pair) put somewhere in a string. */
const loneSurrogateInjection = fc
  .record({
    unit: fc.oneof(fc.integer({ min: 0xd800, max: 0xdbff }), fc.integer({ min: 0xdc00, max: 0xdfff })),
    reversedPair: fc.boolean(),
    at: fc.constantFrom("start", "middle", "end", "alone"),
  })
  .map(({ unit, reversedPair, at }) => {
    const lone = reversedPair ? "\udc00\ud800" : String.fromCharCode(unit);
    return (old: string): string => {
      if (at === "alone") return lone;
      if (at === "start") return lone + old;
      if (at === "end") return old + lone;
      const middle = Math.floor(old.length / 2);
      return old.slice(0, middle) + lone + old.slice(middle);
    };
  });

const PROCEDURES_WITH_INPUT = Object.keys(VALID_INPUTS);

let h: Harness;
let server: RunningHttpServer;
let tables: string[];

beforeAll(async () => {
  h = await createHarness();
  server = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1" });
  tables = await tableNames(h.store);
});
afterAll(async () => {
  await server.close(1_000);
  await h.close();
});

function call(procedure: string, input: unknown) {
  const json = JSON.stringify(input);
  const headers = { authorization: `Bearer ${h.testKey.secretKey}` };
  if (procedureType(procedure) === "query")
    return {
      json,
      answer: send(server.port, { path: `/trpc/${procedure}?input=${encodeURIComponent(json)}`, headers }),
    };
  return {
    json,
    answer: send(server.port, {
      method: "POST",
      path: `/trpc/${procedure}`,
      headers: { ...headers, "content-type": "application/json" },
      body: json,
    }),
  };
}

describe("lone surrogates in any input string are refused (SPEC §6: well-formed Unicode)", () => {
  it("covers every procedure that takes input (session.* take none)", () => {
    expect(PROCEDURE_PATHS.filter((path) => !path.startsWith("session."))).toEqual([...PROCEDURES_WITH_INPUT].sort());
    for (const [path, inputs] of Object.entries(VALID_INPUTS)) {
      for (const input of inputs) expect(schemaAccepts(path, input), `${path} ${JSON.stringify(input)}`).toBe(true);
    }
  });

  it(
    "property: a lone surrogate in any string value or key, sent as a \\uD800 escape, gets 400 naming the field and writes nothing",
    async () => {
      const cases = fc
        .constantFrom(...PROCEDURES_WITH_INPUT)
        .chain((path) =>
          fc.record({
            path: fc.constant(path),
            input: fc.constantFrom(...VALID_INPUTS[path]!),
          }),
        )
        .chain(({ path, input }) =>
          fc.record({
            path: fc.constant(path),
            input: fc.constant(input),
            place: fc.constantFrom(...stringPlaces(input)),
            inject: loneSurrogateInjection,
          }),
        );
      await checkProperty(
        "unicode: lone surrogates over HTTP",
        fc.asyncProperty(cases, async ({ path, input, place, inject }) => {
          const mutated = withChanged(input, place, inject);
          const before = await writeFootprint(h.store, tables);
          const { json, answer } = call(path, mutated);
          // The surrogate travels as an escape: the JSON text itself is plain ASCII there.
          expect(json).toMatch(/\\ud[89a-f][0-9a-f]{2}/);
          const { status, body } = await answer;
          const shown = `${path} ${place.kind} ${place.path.join(".")}: ${json.slice(0, 200)} → ${status} ${body.slice(0, 300)}`;
          expect(status, shown).toBe(400);
          const error = JSON.parse(body).error as { data: { code: string; fieldErrors?: Record<string, string[]> } };
          expect(error.data.code, shown).toBe("BAD_REQUEST");
          // The field at fault is named: the value's own path, or for a key, the object holding it.
          const field = (place.kind === "value" ? place.path : place.path.slice(0, -1)).join(".");
          const named = Object.keys(error.data.fieldErrors ?? {});
          expect(
            field === "" ? named.length > 0 : named.some((key) => key === field || key.startsWith(`${field}.`)),
            shown,
          ).toBe(true);
          expect(await writeFootprint(h.store, tables), shown).toEqual(before);
        }),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it("names the rule for free-text fields: externalUserId, email, metadata keys and nested values", async () => {
    const cases: Array<[input: unknown, field: string, message: string]> = [
      [
        { externalUserId: "user\ud800" },
        "externalUserId",
        "externalUserId must be well-formed Unicode (no lone surrogates)",
      ],
      [
        { externalUserId: "u", email: "\udc00a@example.com" },
        "email",
        "email must be well-formed Unicode (no lone surrogates)",
      ],
      [
        { externalUserId: "u", metadata: { "k\ud800": "v" } },
        "metadata",
        "metadata keys must be well-formed Unicode (no lone surrogates)",
      ],
      [
        { externalUserId: "u", metadata: { a: [{ b: "\udfff" }] } },
        "metadata.a.0.b",
        "metadata values must be well-formed Unicode (no lone surrogates)",
      ],
    ];
    for (const [input, field, message] of cases) {
      const { status, body } = await call("sessionTokens.create", input).answer;
      expect(status, body).toBe(400);
      expect(JSON.parse(body).error.data.fieldErrors[field]).toEqual([message]);
    }
    // A well-formed astral character (a surrogate PAIR) is of course fine.
    const { status } = await call("sessionTokens.create", { externalUserId: "user_😀", metadata: { "k😀": "v😀" } })
      .answer;
    expect(status).toBe(200);
  });
});
