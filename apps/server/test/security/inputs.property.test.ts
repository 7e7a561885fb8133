import { type ErrorCode, errorData, MAX_IMPORT_BATCH } from "@billingos/contracts";
import { getErrorShape, TRPCError } from "@trpc/server";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { DomainError } from "../../src/shared/domain-error.js";
import { appRouter } from "../../src/trpc/router.js";
import {
  type Caller,
  callByPath,
  callerWith,
  checkProperty,
  createTenants,
  expectTableCoversRouter,
  inputKeysOf,
  PROCEDURE_PATHS,
  PROPERTY_TIMEOUT_MS,
  procedureType,
  schemaAccepts,
  settle,
  type Tenants,
  tableNames,
  writeFootprint,
} from "./support.js";

// SPEC §6: "Nothing returns a 500 for bad input." For EVERY procedure of the router, random JSON
// and damaged copies of a valid input get either a success (only if the procedure's own schema
// accepts the input) or a TRPCError with a code the rules allow — BAD_REQUEST for what the schema
// refuses, NOT_FOUND / CONFLICT where the service says so — never INTERNAL_SERVER_ERROR. A refused
// call writes nothing: every table's row count and SQLite's write counter are unchanged.

let t: Tenants;
let tables: string[];
/** Ids of the data the valid inputs point at (organization A, test environment). */
const seed = { tokenId: "", sessionToken: "", unresolvedCursor: "", auditCursor: "" };

beforeAll(async () => {
  t = await createTenants();
  const acme = t.caller("A/test");
  await acme.customers.import({
    customers: [
      { stripeCustomerId: "cus_bound", email: "bound@example.com", metadata: { external_id: "user_1" } },
      { stripeCustomerId: "cus_free", email: "free@example.com", name: "Free" },
      { stripeCustomerId: "cus_shared1", email: "shared@example.com" },
      { stripeCustomerId: "cus_shared2", email: "shared@example.com" },
      { stripeCustomerId: "cus_noemail" },
    ],
  });
  const created = await acme.sessionTokens.create({
    externalUserId: "user_1",
    externalOrganizationId: "org_1",
    email: "user1@example.com",
    metadata: { ip: "203.0.113.9" },
  });
  seed.tokenId = created.tokenId;
  seed.sessionToken = created.sessionToken;
  seed.unresolvedCursor = (
    await t.h.store.kysely.selectFrom("imported_customers").select("id").orderBy("id").executeTakeFirstOrThrow()
  ).id;
  seed.auditCursor = (
    await t.h.store.kysely.selectFrom("audit_events").select("id").orderBy("id", "desc").executeTakeFirstOrThrow()
  ).id;
  tables = await tableNames(t.h.store);
});
afterAll(() => t.h.close());

interface FuzzEntry {
  /** A valid input (organization A, test): the starting point of the mutations, and a control that succeeds. */
  valid: () => unknown;
  /** Codes the service's rules may answer for input the schema accepts (e.g. NOT_FOUND for an unknown id). */
  domainCodes: readonly ErrorCode[];
  /** "secretKey": A's test key. "session": a fresh A/test session token for each case (sign-out spends one). */
  auth: "secretKey" | "session";
}

/**
 * How to call each procedure. A procedure added to the router without an entry here fails the
 * coverage test below, so the fuzzing always reaches every procedure.
 */
const ENTRIES: Record<string, FuzzEntry> = {
  "sessionTokens.create": {
    valid: () => ({
      externalUserId: "user_fuzz",
      email: "fuzz@example.com",
      externalOrganizationId: "org_1",
      expiresIn: 600,
      allowedOperations: ["session:read", "customer:read"],
      metadata: { ip: "203.0.113.9", nested: { ua: "curl" } },
    }),
    domainCodes: [],
    auth: "secretKey",
  },
  "sessionTokens.verify": {
    valid: () => ({ sessionToken: seed.sessionToken, operation: "customer:read" }),
    domainCodes: [],
    auth: "secretKey",
  },
  "sessionTokens.revoke": {
    valid: () => ({ tokenId: seed.tokenId }),
    // NOT_FOUND: an id or token of no token in this scope. BAD_REQUEST: a sessionToken that is not a token, or of the other environment.
    domainCodes: ["NOT_FOUND", "BAD_REQUEST"],
    auth: "secretKey",
  },
  "sessionTokens.list": {
    valid: () => ({ externalUserId: "user_1", status: "all", limit: 5, cursor: seed.tokenId }),
    domainCodes: [],
    auth: "secretKey",
  },
  "sessionTokens.revokeForCustomer": {
    valid: () => ({ externalOrganizationId: "org_fuzz" }),
    domainCodes: [],
    auth: "secretKey",
  },
  "customers.import": {
    valid: () => ({
      customers: [
        {
          stripeCustomerId: "cus_fuzz",
          email: "fuzz@example.com",
          name: "Fuzz",
          metadata: { plan: "pro" },
          createdAt: "2025-01-01T00:00:00.000Z",
        },
      ],
      dryRun: false,
    }),
    domainCodes: [],
    auth: "secretKey",
  },
  "customers.listUnresolved": {
    valid: () => ({ reason: "awaiting_first_session", limit: 10, cursor: seed.unresolvedCursor }),
    domainCodes: [],
    auth: "secretKey",
  },
  "customers.bind": {
    valid: () => ({ stripeCustomerId: "cus_free", externalUserId: "user_9" }),
    // NOT_FOUND: no such customer in this scope. CONFLICT: already bound elsewhere, or the user already has one.
    domainCodes: ["NOT_FOUND", "CONFLICT"],
    auth: "secretKey",
  },
  "customers.unbind": {
    valid: () => ({ stripeCustomerId: "cus_bound" }),
    // NOT_FOUND: no such customer in this scope. (Unbinding an unbound customer returns it as is.)
    domainCodes: ["NOT_FOUND"],
    auth: "secretKey",
  },
  "customers.get": {
    valid: () => ({ stripeCustomerId: "cus_bound" }),
    domainCodes: ["NOT_FOUND"],
    auth: "secretKey",
  },
  "audit.listForCustomer": {
    valid: () => ({ externalUserId: "user_1", limit: 10, cursor: seed.auditCursor }),
    domainCodes: [],
    auth: "secretKey",
  },
  // The session.* procedures take no input (nothing or {}): anything else is a BAD_REQUEST; a fresh token always works.
  "session.get": { valid: () => undefined, domainCodes: [], auth: "session" },
  "session.customer": { valid: () => undefined, domainCodes: [], auth: "session" },
  "session.signOut": { valid: () => undefined, domainCodes: [], auth: "session" },
};

async function callerFor(entry: FuzzEntry): Promise<Caller> {
  if (entry.auth === "secretKey") return t.caller("A/test");
  const { sessionToken } = await t.caller("A/test").sessionTokens.create({ externalUserId: "user_session" });
  return callerWith(t.h.deps, `Bearer ${sessionToken}`);
}

/**
 * One case: the call succeeds only if the schema accepts the input; otherwise it is a TRPCError
 * with an allowed code (never INTERNAL_SERVER_ERROR, never anything else thrown), and nothing is written.
 */
async function expectSafeOutcome(path: string, input: unknown): Promise<void> {
  const entry = ENTRIES[path]!;
  const caller = await callerFor(entry);
  const accepts = schemaAccepts(path, input);
  const before = await writeFootprint(t.h.store, tables);
  const outcome = await settle(() => callByPath(caller, path, input));
  const shown = JSON.stringify(input)?.slice(0, 300);
  if (outcome.ok) {
    expect(accepts, `${path} succeeded on input its schema refuses: ${shown}`).toBe(true);
    return;
  }
  const error = outcome.error;
  expect(error, `${path} threw a non-tRPC error for ${shown}`).toBeInstanceOf(TRPCError);
  const { code, cause } = error as TRPCError;
  expect(code, `${path} answered INTERNAL_SERVER_ERROR for ${shown}: ${String(cause)}`).not.toBe(
    "INTERNAL_SERVER_ERROR",
  );
  if (accepts) {
    expect(entry.domainCodes, `${path}: ${code} is not a code its rules give, for ${shown}`).toContain(code);
    // DomainError is itself the TRPCError a service throws.
    expect(error, `${path}: a refusal of valid input must come from a service rule`).toBeInstanceOf(DomainError);
  } else {
    // Refused by the schema: BAD_REQUEST carrying the zod issues.
    expect(code, `${path}: schema-refused input must be BAD_REQUEST: ${shown}`).toBe("BAD_REQUEST");
    expect(cause).toBeInstanceOf(ZodError);
  }
  // What a client reads: the root error formatter shapes the refusal (field errors, code) without throwing.
  const shape = await settle(async () =>
    getErrorShape({
      config: appRouter._def._config,
      error: error as TRPCError,
      type: procedureType(path),
      path,
      input,
      ctx: undefined,
    }),
  );
  expect(shape.ok, `${path}: the error formatter threw ${shape.ok ? "" : String(shape.error)} for ${shown}`).toBe(true);
  const data = errorData.safeParse((shape as { value: { data: unknown } }).value.data);
  expect(data.success && data.data.code, `${path}: malformed error data for ${shown}`).toBe(code);
  expect(await writeFootprint(t.h.store, tables), `${path}: a refused call wrote to the database (${shown})`).toEqual(
    before,
  );
}

// ---------------------------------------------------------------------------------------------
// Generators.

/** JSON of every shape fast-check makes, plus values built by fc.anything (boxed values, typed arrays, dates…) turned into their JSON. */
const randomJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc
    .anything({
      maxDepth: 3,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withObjectString: true,
    })
    .map((value) => {
      const json = JSON.stringify(value);
      return json === undefined ? undefined : (JSON.parse(json) as unknown);
    }),
  fc.constant(undefined),
);

const metadataOver8KiB = { blob: "x".repeat(8 * 1024) };

/** Values near the edges of the rules (lengths, bounds, formats) and of JSON itself. */
const edgeValues = (): unknown[] => [
  "",
  " ",
  "a".repeat(255),
  "a".repeat(256),
  "x".repeat(513),
  "\u0000",
  "😀".repeat(200),
  0,
  -0,
  -1,
  1,
  59,
  60,
  86_400,
  86_401,
  1.5,
  1e21,
  Number.MAX_SAFE_INTEGER,
  null,
  true,
  false,
  [],
  {},
  [null],
  "cus_",
  `cus_${"a".repeat(251)}`,
  "tok_",
  `tok_${"0".repeat(26)}`,
  seed.tokenId,
  seed.sessionToken,
  seed.sessionToken.replace("test", "live"),
  "customer:read",
  "customer:write",
  "active",
  "all",
  "no_email",
  "email_shared",
  "2025-01-01T00:00:00.000Z",
  "2025-13-45T99:99:99Z",
  "user@example.com",
  "  USER@EXAMPLE.COM  ",
  "a@b",
  { ip: "203.0.113.9" },
  JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
  metadataOver8KiB,
  Array.from({ length: MAX_IMPORT_BATCH + 1 }, (_, i) => ({ stripeCustomerId: `cus_edge${i}` })),
];

type Path = (string | number)[];

/** Every place inside a value where a mutation can land: the root, each key, each array slot. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const paths: Path[] = [prefix];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) paths.push(...pathsOf(item, [...prefix, index]));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...prefix, key]));
  }
  return paths;
}

/** Removes an array slot by hand: splice would consult the array's own `constructor`, which a mutation may have replaced. */
function removeAt(array: unknown[], index: number): void {
  for (let i = index; i < array.length - 1; i++) array[i] = array[i + 1];
  array.length = Math.max(0, array.length - 1);
}

type Mutation =
  | { kind: "set"; path: Path; value: unknown }
  | { kind: "delete"; path: Path }
  | { kind: "extra"; path: Path; key: string; value: unknown };

function applyMutation(root: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(root);
  if (mutation.path.length === 0) {
    if (mutation.kind === "set") return mutation.value;
    if (mutation.kind === "delete") return undefined;
  }
  const parentPath = mutation.kind === "extra" ? mutation.path : mutation.path.slice(0, -1);
  let parent: unknown = copy;
  for (const step of parentPath) parent = (parent as Record<string | number, unknown>)?.[step];
  if (parent === null || typeof parent !== "object") return copy;
  const target = parent as Record<string | number, unknown>;
  if (mutation.kind === "extra") {
    // defineProperty, so that a key named __proto__ is an own property, as JSON.parse makes it.
    Object.defineProperty(target, mutation.key, {
      value: mutation.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    const last = mutation.path[mutation.path.length - 1]!;
    if (mutation.kind === "set") target[last] = mutation.value;
    else if (Array.isArray(target) && typeof last === "number") removeAt(target, last);
    else delete target[last];
  }
  return copy;
}

/** Damaged copies of the valid input: fields set to wrong types or edge values, removed, or joined by unknown keys. */
function mutationsOf(path: string): fc.Arbitrary<unknown> {
  const valid = ENTRIES[path]!.valid();
  const places = pathsOf(valid);
  const knownKeys = [
    ...new Set([
      ...inputKeysOf(path),
      ...places.flatMap((place) => place.filter((step): step is string => typeof step === "string")),
    ]),
  ];
  const value = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...edgeValues()) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
  const extraKey = fc.oneof(
    fc.string({ maxLength: 20 }),
    // Typos and look-alikes of real fields (expiresin for expiresIn) and prototype names.
    fc.constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "toString",
      ...knownKeys.flatMap((key) => [key.toLowerCase(), key.toUpperCase(), `${key} `]),
    ),
  );
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("set" as const), path: fc.constantFrom(...places), value }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), path: fc.constantFrom(...places) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("extra" as const),
        path: fc.constantFrom(...places),
        key: extraKey,
        value,
      }),
    },
  );
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => mutations.reduce(applyMutation, valid));
}

// ---------------------------------------------------------------------------------------------

describe("input fuzzing covers the whole router", () => {
  it("every procedure of appRouter has an entry in ENTRIES (inputs.property.test.ts)", () => {
    expectTableCoversRouter(ENTRIES, "ENTRIES of test/security/inputs.property.test.ts");
  });
});

describe.each(PROCEDURE_PATHS.filter((path) => path in ENTRIES))("%s", (path) => {
  it("control: its valid input succeeds (so the properties can tell success from refusal)", async () => {
    const input = ENTRIES[path]!.valid();
    expect(schemaAccepts(path, input)).toBe(true);
    const outcome = await settle(async () => callByPath(await callerFor(ENTRIES[path]!), path, input));
    expect(outcome.ok, outcome.ok ? "" : String(outcome.error)).toBe(true);
  });

  it(
    "property: random JSON gets success or BAD_REQUEST, never a 500, and a refusal writes nothing",
    async () => {
      await checkProperty(
        `inputs: random JSON → ${path}`,
        fc.asyncProperty(randomJson, (input) => expectSafeOutcome(path, input)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "property: damaged valid inputs (wrong types, edge values, missing and unknown keys) get success or a typed refusal",
    async () => {
      await checkProperty(
        `inputs: mutations → ${path}`,
        fc.asyncProperty(mutationsOf(path), (input) => expectSafeOutcome(path, input)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
