import { describe, expect, it } from "vitest";
import {
  type CreateSessionTokenInput,
  createSessionTokenInput,
  listSessionTokensInput,
  MAX_METADATA_BYTES,
  MAX_SESSION_TOKEN_LENGTH,
  noInput,
  OPERATIONS,
  revokeCustomerSessionTokensInput,
  revokeSessionTokenInput,
  validationDetailsOf,
  validationMessageOf,
  verifySessionTokenInput,
} from "../src/index.js";
import { expectInvalid, expectValid } from "./support/expect-invalid.js";

const base = { externalUserId: "user_123" };
const create = (extra: Record<string, unknown>) => ({ ...base, ...extra });
const TOKEN_ID = "tok_01hzx3k5m7n9p1q3r5s7t9v1w3";
const utf8 = new TextEncoder();
const jsonBytes = (value: unknown) => utf8.encode(JSON.stringify(value)).length;

describe("createSessionTokenInput: expiresIn (SPEC §2: integer seconds, 60–86400)", () => {
  it.each([60, 3600, 86_400])("accepts %d", (expiresIn) => {
    expect(expectValid(createSessionTokenInput, create({ expiresIn })).expiresIn).toBe(expiresIn);
  });

  it("is optional", () => {
    expect(expectValid(createSessionTokenInput, base).expiresIn).toBeUndefined();
  });

  // Out of range, fractional, non-finite and stringly-typed numbers are all refused.
  it.each([
    [59, "at least 60"],
    [0, "at least 60"],
    [-60, "at least 60"],
    [86_401, "at most 86400"],
    [1.5, "whole number"],
    [60.5, "whole number"],
    [Number.POSITIVE_INFINITY, "expiresIn"],
    [Number.NaN, "expiresIn"],
    ["60", "must be a number"],
    [null, "must be a number"],
  ])("rejects %j", (expiresIn, message) => {
    const details = expectInvalid(createSessionTokenInput, create({ expiresIn }), "expiresIn");
    expect(details.fieldErrors.expiresIn?.join(" ")).toContain(message);
  });
});

describe("createSessionTokenInput: external ids (SPEC §6: 1–255 characters)", () => {
  it.each(["externalUserId", "externalOrganizationId"])("%s: 1 and 255 characters ok, '' and 256 rejected", (field) => {
    expectValid(createSessionTokenInput, create({ [field]: "x" }));
    expectValid(createSessionTokenInput, create({ [field]: "x".repeat(255) }));
    expectInvalid(createSessionTokenInput, create({ [field]: "" }), field);
    expectInvalid(createSessionTokenInput, create({ [field]: "x".repeat(256) }), field);
    expectInvalid(createSessionTokenInput, create({ [field]: 123 }), field);
  });

  it("externalUserId is required", () => {
    expectInvalid(createSessionTokenInput, {}, "externalUserId");
  });
});

describe("createSessionTokenInput: email", () => {
  it("accepts a valid address", () => {
    expect(expectValid(createSessionTokenInput, create({ email: "user@example.com" })).email).toBe("user@example.com");
  });

  it.each(["", "not-an-email", "user@", "@example.com", "user@@example.com", "user example@example.com"])(
    "rejects %j",
    (email) => {
      const details = expectInvalid(createSessionTokenInput, create({ email }), "email");
      expect(details.fieldErrors.email).toEqual(["email must be a valid email address"]);
    },
  );

  // SPEC §6: next-auth types the email `string | null`; null means "none", exactly as absent does.
  it("takes null as no email: the output has none, as when the field is absent", () => {
    const parsed = expectValid(createSessionTokenInput, create({ email: null }));
    expect(parsed.email).toBeUndefined();
    expect(parsed).toEqual(expectValid(createSessionTokenInput, base));
    expect(expectValid(createSessionTokenInput, create({ email: undefined })).email).toBeUndefined();
    const typed: CreateSessionTokenInput = { externalUserId: "u", email: null };
    expect(expectValid(createSessionTokenInput, typed).email).toBeUndefined();
  });

  it.each([5, false, {}, [], "null"])("still rejects %j", (email) => {
    expectInvalid(createSessionTokenInput, create({ email }), "email");
  });
});

describe("createSessionTokenInput: metadata (SPEC §6: JSON object, at most 8 KiB serialized)", () => {
  /** An object whose JSON is exactly `bytes` long, built from `unit` (1 or 2 UTF-8 bytes). */
  function metadataOfBytes(bytes: number, unit: "x" | "é" = "x"): Record<string, string> {
    const empty = jsonBytes({ k: "" });
    const unitBytes = utf8.encode(unit).length;
    const value = { k: unit.repeat(Math.floor((bytes - empty) / unitBytes)) };
    const pad = bytes - jsonBytes(value);
    if (pad > 0) value.k += "x".repeat(pad);
    expect(jsonBytes(value)).toBe(bytes);
    return value;
  }

  it("accepts exactly 8192 bytes of JSON", () => {
    expect(MAX_METADATA_BYTES).toBe(8192);
    expectValid(createSessionTokenInput, create({ metadata: metadataOfBytes(8192) }));
    expectValid(createSessionTokenInput, create({ metadata: metadataOfBytes(8192, "é") }));
  });

  it("rejects 8193 bytes of JSON", () => {
    const details = expectInvalid(createSessionTokenInput, create({ metadata: metadataOfBytes(8193) }), "metadata");
    expect(details.fieldErrors.metadata?.join(" ")).toContain("8192");
  });

  // The limit is on UTF-8 bytes, not UTF-16 characters: 4100 "é" are < 8192 characters but > 8192 bytes.
  it("counts bytes, not characters", () => {
    const metadata = { k: "é".repeat(4100) };
    expect(JSON.stringify(metadata).length).toBeLessThan(8192);
    expectInvalid(createSessionTokenInput, create({ metadata }), "metadata");
  });

  it("accepts nested JSON values", () => {
    const metadata = { ip: "203.0.113.9", tags: ["a", 1, true, null], nested: { ua: "Mozilla/5.0" } };
    expect(expectValid(createSessionTokenInput, create({ metadata })).metadata).toEqual(metadata);
  });

  // Only a JSON object will do: arrays, strings, numbers and null are not "metadata".
  it.each([[[]], [["a", "b"]], ["ip=1.2.3.4"], [42], [null], [true]])("rejects %j", (metadata) => {
    expectInvalid(createSessionTokenInput, create({ metadata }), "metadata");
  });

  it("rejects values that are not JSON (undefined, functions, Dates)", () => {
    expectInvalid(createSessionTokenInput, create({ metadata: { at: new Date(0) } }), "metadata.at");
    expectInvalid(createSessionTokenInput, create({ metadata: { f: () => 1 } }), "metadata.f");
  });
});

describe("createSessionTokenInput: unknown fields (SPEC §6)", () => {
  // A typo must not be silently ignored: the token would otherwise live for the default hour.
  it("rejects `expiresin` under its own name", () => {
    const details = expectInvalid(createSessionTokenInput, create({ expiresin: 60 }), "expiresin");
    expect(details.fieldErrors).toEqual({ expiresin: ['Unknown field "expiresin"'] });
    expect(validationMessageOf(details)).toBe('Invalid input: expiresin: Unknown field "expiresin"');
  });

  it("reports every unknown field", () => {
    const details = expectInvalid(createSessionTokenInput, create({ userId: "u", ttl: 1 }), "userId");
    expect(Object.keys(details.fieldErrors).sort()).toEqual(["ttl", "userId"]);
  });
});

describe("allowedOperations (SPEC §4)", () => {
  it("accepts names from OPERATIONS and removes duplicates", () => {
    const parsed = expectValid(
      createSessionTokenInput,
      create({ allowedOperations: ["customer:read", "customer:read"] }),
    );
    expect(parsed.allowedOperations).toEqual(["customer:read"]);
    expect(
      expectValid(createSessionTokenInput, create({ allowedOperations: [...OPERATIONS] })).allowedOperations,
    ).toEqual([...OPERATIONS]);
  });

  it("absent means every operation (left undefined)", () => {
    expect(expectValid(createSessionTokenInput, base).allowedOperations).toBeUndefined();
  });

  // An unknown name is an error that tells the caller what the valid names are.
  it("rejects an unknown operation with a message listing all valid ones", () => {
    const details = expectInvalid(
      createSessionTokenInput,
      create({ allowedOperations: ["customer:read", "customer:write"] }),
      "allowedOperations.1",
      "allowedOperations",
    );
    const message = details.fieldErrors["allowedOperations.1"]?.join(" ") ?? "";
    expect(message).toContain('"customer:write"');
    for (const name of OPERATIONS) expect(message).toContain(name);
    for (const name of OPERATIONS) expect(validationMessageOf(details)).toContain(name);
  });

  it("rejects an empty list (omit it to allow all)", () => {
    expectInvalid(createSessionTokenInput, create({ allowedOperations: [] }), "allowedOperations");
  });

  it("rejects a non-array", () => {
    expectInvalid(createSessionTokenInput, create({ allowedOperations: "customer:read" }), "allowedOperations");
  });

  it("verifySessionTokenInput rejects an unknown operation the same way", () => {
    const details = expectInvalid(
      verifySessionTokenInput,
      { sessionToken: "bos_session_test_x", operation: "admin" },
      "operation",
    );
    for (const name of OPERATIONS) expect(details.fieldErrors.operation?.join(" ")).toContain(name);
  });
});

describe("revokeSessionTokenInput: exactly one of tokenId / sessionToken (SPEC §3)", () => {
  it("accepts either one alone", () => {
    expectValid(revokeSessionTokenInput, { tokenId: TOKEN_ID });
    expectValid(revokeSessionTokenInput, { sessionToken: "bos_session_test_abc" });
  });

  // Neither gives nothing to revoke; both is ambiguous (they might name different tokens).
  it.each([[{}], [{ tokenId: TOKEN_ID, sessionToken: "bos_session_test_abc" }]])("rejects %j", (input) => {
    const details = expectInvalid(revokeSessionTokenInput, input, "", "tokenId or sessionToken");
    expect(details.formErrors).toEqual(["Give exactly one of tokenId or sessionToken"]);
  });

  it("rejects a malformed tokenId, an empty or oversized sessionToken", () => {
    expectInvalid(revokeSessionTokenInput, { tokenId: "tok_123" }, "tokenId");
    expectInvalid(revokeSessionTokenInput, { tokenId: TOKEN_ID.toUpperCase() }, "tokenId");
    expectInvalid(revokeSessionTokenInput, { sessionToken: "" }, "sessionToken");
    expectInvalid(revokeSessionTokenInput, { sessionToken: "x".repeat(MAX_SESSION_TOKEN_LENGTH + 1) }, "sessionToken");
  });

  it("rejects unknown fields", () => {
    expectInvalid(revokeSessionTokenInput, { tokenId: TOKEN_ID, token: "x" }, "token");
  });
});

describe("revokeCustomerSessionTokensInput: exactly one of externalUserId / externalOrganizationId", () => {
  it("accepts either one alone", () => {
    expectValid(revokeCustomerSessionTokensInput, { externalUserId: "user_1" });
    expectValid(revokeCustomerSessionTokensInput, { externalOrganizationId: "org_1" });
  });

  it.each([[{}], [{ externalUserId: "user_1", externalOrganizationId: "org_1" }]])("rejects %j", (input) => {
    const details = expectInvalid(
      revokeCustomerSessionTokensInput,
      input,
      "",
      "externalUserId or externalOrganizationId",
    );
    expect(details.formErrors).toEqual(["Give exactly one of externalUserId or externalOrganizationId"]);
  });

  it("applies the 1–255 character bounds", () => {
    expectInvalid(revokeCustomerSessionTokensInput, { externalUserId: "" }, "externalUserId");
    expectInvalid(
      revokeCustomerSessionTokensInput,
      { externalOrganizationId: "x".repeat(256) },
      "externalOrganizationId",
    );
  });
});

describe("verifySessionTokenInput and listSessionTokensInput", () => {
  it("verify: sessionToken is required and bounded", () => {
    expectValid(verifySessionTokenInput, { sessionToken: "x".repeat(MAX_SESSION_TOKEN_LENGTH) });
    expectInvalid(verifySessionTokenInput, {}, "sessionToken");
    expectInvalid(verifySessionTokenInput, { sessionToken: "x".repeat(MAX_SESSION_TOKEN_LENGTH + 1) }, "sessionToken");
  });

  it("list: defaults status to all and limit to 20, bounds limit, validates cursor", () => {
    expect(expectValid(listSessionTokensInput, { externalUserId: "u" })).toEqual({
      externalUserId: "u",
      status: "all",
      limit: 20,
    });
    expectValid(listSessionTokensInput, { externalUserId: "u", status: "active", limit: 100, cursor: TOKEN_ID });
    expectInvalid(listSessionTokensInput, { externalUserId: "u", status: "revoked" }, "status");
    expectInvalid(listSessionTokensInput, { externalUserId: "u", limit: 0 }, "limit");
    expectInvalid(listSessionTokensInput, { externalUserId: "u", limit: 101 }, "limit");
    expectInvalid(listSessionTokensInput, { externalUserId: "u", cursor: "nope" }, "cursor");
  });
});

describe("validationDetailsOf / validationMessageOf", () => {
  it("keys nested issues by dotted path and lists form errors first", () => {
    const result = revokeSessionTokenInput.safeParse({});
    expect(result.success).toBe(false);
    if (result.success) return;
    const details = validationDetailsOf(result.error);
    expect(details).toEqual({ fieldErrors: {}, formErrors: ["Give exactly one of tokenId or sessionToken"] });
    expect(validationMessageOf(details)).toBe("Invalid input: Give exactly one of tokenId or sessionToken");
  });

  it("has a fallback message for empty details", () => {
    expect(validationMessageOf({ fieldErrors: {}, formErrors: [] })).toBe("Invalid input");
  });
});

describe("noInput: the session.* procedures take none", () => {
  const signOutInput = noInput("session.signOut");

  it("accepts nothing, or an empty object", () => {
    expect(signOutInput.safeParse(undefined).success).toBe(true);
    expect(signOutInput.safeParse({}).success).toBe(true);
  });

  it("refuses a field as an unknown field, and anything else as taking no input", () => {
    const details = expectInvalid(signOutInput, { tokenId: TOKEN_ID }, "tokenId");
    expect(details.fieldErrors).toEqual({ tokenId: ['Unknown field "tokenId"'] });
    for (const input of [null, "tok", 1, [], true]) {
      expect(expectInvalid(signOutInput, input, "", "session.signOut takes no input").formErrors).toEqual([
        "session.signOut takes no input",
      ]);
    }
  });
});
