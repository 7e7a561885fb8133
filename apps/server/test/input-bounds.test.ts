import { MAX_METADATA_BYTES, OPERATIONS } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countSessionTokens, createHarness, type Harness, rejectionOf, START_TIME } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

/** `{"k":"xxx…"}` whose JSON serialization is exactly `bytes` bytes long. */
function metadataOfBytes(bytes: number): Record<string, string> {
  const value = { k: "x".repeat(bytes - '{"k":""}'.length) };
  expect(new TextEncoder().encode(JSON.stringify(value)).length).toBe(bytes);
  return value;
}

type CreateInput = Parameters<ReturnType<Harness["caller"]>["sessionTokens"]["create"]>[0];

/** Input the type system would refuse, sent anyway as an untyped caller (a JS client, curl) could. */
const untyped = (input: Record<string, unknown>) => input as unknown as CreateInput;

describe("sessionTokens.create rejects out-of-bounds input (SPEC §6)", () => {
  const rejected: Array<[name: string, input: () => CreateInput, field: string]> = [
    // Below the 60 s floor: a token must live long enough for a page load.
    ["expiresIn 59", () => ({ externalUserId: "u", expiresIn: 59 }), "expiresIn"],
    // Above the 24 h ceiling: session tokens are short-lived by design.
    ["expiresIn 86401", () => ({ externalUserId: "u", expiresIn: 86_401 }), "expiresIn"],
    // Seconds are whole numbers: 1.5 would silently round otherwise.
    ["expiresIn 1.5", () => ({ externalUserId: "u", expiresIn: 1.5 }), "expiresIn"],
    // A numeric string is not coerced: the wire type is number.
    ['expiresIn "60"', () => untyped({ externalUserId: "u", expiresIn: "60" }), "expiresIn"],
    // externalUserId is required and at least one character.
    ['externalUserId ""', () => ({ externalUserId: "" }), "externalUserId"],
    // externalUserId is at most 255 characters.
    ["externalUserId of 256 chars", () => ({ externalUserId: "u".repeat(256) }), "externalUserId"],
    // externalUserId is required at all.
    ["externalUserId missing", () => untyped({}), "externalUserId"],
    // externalOrganizationId, when given, is at least one character.
    [
      'externalOrganizationId ""',
      () => ({ externalUserId: "u", externalOrganizationId: "" }),
      "externalOrganizationId",
    ],
    // externalOrganizationId is at most 255 characters.
    [
      "externalOrganizationId of 256 chars",
      () => ({ externalUserId: "u", externalOrganizationId: "o".repeat(256) }),
      "externalOrganizationId",
    ],
    // Not an address: lazy binding by email needs a real one.
    ["email without @", () => ({ externalUserId: "u", email: "user.example.com" }), "email"],
    // Not an address: nothing after the @.
    ["email without domain", () => ({ externalUserId: "u", email: "user@" }), "email"],
    // Metadata one byte over the 8 KiB serialized cap.
    [
      "metadata of 8193 bytes",
      () => ({ externalUserId: "u", metadata: metadataOfBytes(MAX_METADATA_BYTES + 1) }),
      "metadata",
    ],
    // The cap counts UTF-8 bytes, not characters: 4100 "é" are 4108 characters but 8208 bytes.
    ["metadata of 8208 UTF-8 bytes", () => ({ externalUserId: "u", metadata: { k: "é".repeat(4100) } }), "metadata"],
    // Metadata must be a JSON object, not an array.
    ["metadata array", () => untyped({ externalUserId: "u", metadata: ["ip"] }), "metadata"],
    // Metadata must be a JSON object, not a string.
    ["metadata string", () => untyped({ externalUserId: "u", metadata: "ip=1.2.3.4" }), "metadata"],
    // Metadata nests at most 8 levels (checked by an iterative walk before anything recursive runs).
    [
      "metadata 9 levels deep",
      () =>
        untyped({ externalUserId: "u", metadata: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } }),
      "metadata",
    ],
    // Metadata holds at most 1024 keys and array items in all, whatever their size.
    [
      "metadata of 1025 values",
      () => ({ externalUserId: "u", metadata: { list: Array.from({ length: 1024 }, () => 0) } }),
      "metadata",
    ],
    // A lone surrogate cannot be stored as UTF-8: it would come back as U+FFFD, another user's id.
    ["externalUserId with a lone surrogate", () => ({ externalUserId: "user\ud800" }), "externalUserId"],
    // The same in a metadata key.
    [
      "metadata key with a lone surrogate",
      () => ({ externalUserId: "u", metadata: { "ua\udc00": "curl" } }),
      "metadata",
    ],
    // A typo of expiresIn must not be silently ignored (strict input).
    ["unknown field expiresin", () => untyped({ externalUserId: "u", expiresin: 60 }), "expiresin"],
    // An empty operation list would allow nothing; absence is how to allow everything.
    ["allowedOperations []", () => ({ externalUserId: "u", allowedOperations: [] }), "allowedOperations"],
  ];

  it.each(rejected)("rejects %s with BAD_REQUEST naming the field, storing nothing", async (_name, input, field) => {
    const before = await countSessionTokens(h.store);
    const { error, message, data } = await rejectionOf(h.caller(h.testKey.secretKey).sessionTokens.create(input()));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.message).toContain(field);
    expect(message).toContain(field);
    expect(data.httpStatus).toBe(400);
    expect(Object.keys(data.fieldErrors ?? {})).toContain(field);
    expect(await countSessionTokens(h.store)).toBe(before);
  });

  it("rejects an unknown operation with a message listing the valid ones", async () => {
    // "invoice:pay" is not in the contracts' one list of operations.
    const { error, message, data } = await rejectionOf(
      h
        .caller(h.testKey.secretKey)
        .sessionTokens.create(untyped({ externalUserId: "u", allowedOperations: ["invoice:pay"] })),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(data.fieldErrors?.["allowedOperations.0"]).toBeDefined();
    expect(message).toContain("invoice:pay");
    for (const operation of OPERATIONS) expect(message).toContain(operation);
    expect(await countSessionTokens(h.store)).toBe(0);
  });

  it("reports every faulty field at once", async () => {
    // Two faults in one call: both are named so the developer fixes them in one go.
    const { data } = await rejectionOf(
      h.caller(h.testKey.secretKey).sessionTokens.create(untyped({ externalUserId: "", expiresin: 5 })),
    );
    expect(Object.keys(data.fieldErrors ?? {}).sort()).toEqual(["expiresin", "externalUserId"]);
  });
});

describe("sessionTokens.create accepts the bounds themselves", () => {
  it("accepts expiresIn 60 and 86400", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const short = await api.create({ externalUserId: "u", expiresIn: 60 });
    const long = await api.create({ externalUserId: "u", expiresIn: 86_400 });
    expect(short.expiresAt).toBe(new Date(START_TIME + 60_000).toISOString());
    expect(long.expiresAt).toBe(new Date(START_TIME + 86_400_000).toISOString());
  });

  it("accepts 255-character externalUserId and externalOrganizationId", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const externalUserId = "u".repeat(255);
    const externalOrganizationId = "o".repeat(255);
    const created = await api.create({ externalUserId, externalOrganizationId });
    const verified = await api.verify({ sessionToken: created.sessionToken });
    expect(verified).toMatchObject({ valid: true, customer: { externalUserId, externalOrganizationId } });
  });

  it("accepts metadata of exactly 8192 serialized bytes and returns it intact", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const metadata = metadataOfBytes(MAX_METADATA_BYTES);
    const created = await api.create({ externalUserId: "u", metadata });
    expect(await api.verify({ sessionToken: created.sessionToken })).toMatchObject({ valid: true, metadata });
  });

  it("accepts a valid email", async () => {
    const created = await h
      .caller(h.testKey.secretKey)
      .sessionTokens.create({ externalUserId: "u", email: "a.b+c@example.co.uk" });
    expect(created.tokenId).toMatch(/^tok_/);
    expect(await countSessionTokens(h.store)).toBe(1);
  });
});

describe("other procedures reject bad input with BAD_REQUEST", () => {
  it("verify: empty, oversized, unknown operation, unknown field", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const { sessionToken } = await api.create({ externalUserId: "u" });
    const cases: Array<[input: unknown, field: string]> = [
      // An empty token is not worth hashing.
      [{ sessionToken: "" }, "sessionToken"],
      // Junk longer than any real token is refused before hashing.
      [{ sessionToken: "x".repeat(513) }, "sessionToken"],
      // The operation to check must be one of the known names.
      [{ sessionToken, operation: "invoice:pay" }, "operation"],
      // A typo of operation must not be ignored (the check would silently pass).
      [{ sessionToken, opration: "customer:read" }, "opration"],
    ];
    for (const [input, field] of cases) {
      const { error, data } = await rejectionOf(api.verify(input as Parameters<typeof api.verify>[0]));
      expect(error.code).toBe("BAD_REQUEST");
      expect(Object.keys(data.fieldErrors ?? {})).toContain(field);
    }
  });

  it("revoke: a tokenId that is not tok_…", async () => {
    // Ids have a fixed shape; anything else cannot name a token.
    const { error, data } = await rejectionOf(
      h.caller(h.testKey.secretKey).sessionTokens.revoke({ tokenId: "key_123" }),
    );
    expect(error.code).toBe("BAD_REQUEST");
    expect(Object.keys(data.fieldErrors ?? {})).toContain("tokenId");
  });

  it("revoke: neither tokenId nor sessionToken", async () => {
    // Exactly one of the two names the token to revoke.
    const { error, message } = await rejectionOf(h.caller(h.testKey.secretKey).sessionTokens.revoke({}));
    expect(error.code).toBe("BAD_REQUEST");
    expect(message).toContain("tokenId");
  });

  it("list: limit 0, 101, 2.5; bad cursor; bad status", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    type ListInput = Parameters<typeof api.list>[0];
    const cases: Array<[input: unknown, field: string]> = [
      // A page has at least one row.
      [{ externalUserId: "u", limit: 0 }, "limit"],
      // Pages are capped at 100 rows.
      [{ externalUserId: "u", limit: 101 }, "limit"],
      // A row count is a whole number.
      [{ externalUserId: "u", limit: 2.5 }, "limit"],
      // A cursor is a token id handed out by a previous page.
      [{ externalUserId: "u", cursor: "page-2" }, "cursor"],
      // Only "active" and "all" are filters.
      [{ externalUserId: "u", status: "revoked" }, "status"],
      // Listing is per customer: the user id is required.
      [{}, "externalUserId"],
    ];
    for (const [input, field] of cases) {
      const { error, data } = await rejectionOf(api.list(input as ListInput));
      expect(error.code).toBe("BAD_REQUEST");
      expect(Object.keys(data.fieldErrors ?? {})).toContain(field);
    }
  });

  it("revokeForCustomer: neither or both of externalUserId / externalOrganizationId", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const { sessionToken } = await api.create({ externalUserId: "u", externalOrganizationId: "o" });
    // Without a customer the call would be "revoke everything": refused.
    const neither = await rejectionOf(api.revokeForCustomer({}));
    // Both at once is ambiguous (intersection or union?): refused.
    const both = await rejectionOf(api.revokeForCustomer({ externalUserId: "u", externalOrganizationId: "o" }));
    for (const { error, message } of [neither, both]) {
      expect(error.code).toBe("BAD_REQUEST");
      expect(message).toContain("externalUserId");
      expect(message).toContain("externalOrganizationId");
    }
    expect(await api.verify({ sessionToken })).toMatchObject({ valid: true });
  });
});
