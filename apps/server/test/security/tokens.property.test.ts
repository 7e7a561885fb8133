import {
  BASE62_ALPHABET,
  CHECKSUM_LENGTH,
  checksumOf,
  type Environment,
  isWellFormedUnicode,
  MAX_SESSION_TOKEN_LENGTH,
  SECRET_KEY_PREFIXES,
  SESSION_TOKEN_PREFIXES,
} from "@billingos/contracts";
import { TRPCError } from "@trpc/server";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  callerWith,
  checkProperty,
  createTenants,
  PROPERTY_TIMEOUT_MS,
  settle,
  type TenantName,
  type Tenants,
  tableNames,
  writeCounter,
} from "./support.js";

// SPEC §3: only a token this service issued, unchanged, verifies. Random strings, random bytes and
// every kind of damage to a real token must fail verify (valid:false, or BAD_REQUEST for what the
// input schema refuses), be refused by the session middleware, and write nothing.

let t: Tenants;
/** One real, active token per environment, created with the A keys (every operation allowed). */
const real: Record<Environment, string> = { test: "", live: "" };
const keyOf: Record<Environment, TenantName> = { test: "A/test", live: "A/live" };

beforeAll(async () => {
  t = await createTenants();
  real.test = (await t.caller("A/test").sessionTokens.create({ externalUserId: "user_1" })).sessionToken;
  real.live = (await t.caller("A/live").sessionTokens.create({ externalUserId: "user_1" })).sessionToken;
});
afterAll(() => t.h.close());

const INVALID_REASONS = ["malformed", "not_found", "wrong_environment"];

/**
 * What verify with the key of `environment` says of `candidate`: must never be valid. A candidate
 * the input schema refuses (empty, over 512 characters) is a BAD_REQUEST instead.
 */
async function expectVerifyRefuses(
  candidate: string,
  environment: Environment,
  reasons = INVALID_REASONS,
): Promise<void> {
  const outcome = await settle(() => t.caller(keyOf[environment]).sessionTokens.verify({ sessionToken: candidate }));
  if (candidate.length === 0 || candidate.length > MAX_SESSION_TOKEN_LENGTH || !isWellFormedUnicode(candidate)) {
    // Refused by the schema: not a string verify can even look at (empty, too long, or with a lone surrogate).
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error instanceof TRPCError && outcome.error.code).toBe("BAD_REQUEST");
    return;
  }
  expect(outcome.ok, `verify threw for ${JSON.stringify(candidate)}: ${outcome.ok ? "" : String(outcome.error)}`).toBe(
    true,
  );
  const result = (outcome as { value: { valid: boolean; reason?: string } }).value;
  expect(result.valid, `verify accepted ${JSON.stringify(candidate)}`).toBe(false);
  expect(reasons).toContain(result.reason);
}

/** The browser's path: the session middleware refuses `candidate` with a bare UNAUTHORIZED. */
async function expectSessionRefuses(candidate: string): Promise<void> {
  const outcome = await settle(() => callerWith(t.h.deps, `Bearer ${candidate}`).session.get());
  expect(outcome.ok, `session.get accepted ${JSON.stringify(candidate)}`).toBe(false);
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(TRPCError);
  expect((error as TRPCError).code).toBe("UNAUTHORIZED");
}

/**
 * Both paths refuse, and neither wrote a row. The one exception is HTTP's, not ours: trailing
 * whitespace after a header value is not part of it, so "<real token> " in a header is the real token.
 */
async function expectNeverVerifies(
  candidate: string,
  environment: Environment,
  reasons = INVALID_REASONS,
): Promise<void> {
  await expectWritesNothing(async () => {
    await expectVerifyRefuses(candidate, environment, reasons);
    const inHeader = candidate.replace(/\s+$/, "");
    if (inHeader !== real.test && inHeader !== real.live) await expectSessionRefuses(candidate);
  });
}

/** SQLite's write counter is the same after `work` (nested calls check once, for the outermost). */
let checkingWrites = false;
async function expectWritesNothing(work: () => Promise<void>): Promise<void> {
  if (checkingWrites) return work();
  checkingWrites = true;
  try {
    const before = await writeCounter(t.h.store, await tableNames(t.h.store));
    await work();
    expect(await writeCounter(t.h.store, await tableNames(t.h.store)), "a refused token wrote to the database").toBe(
      before,
    );
  } finally {
    checkingWrites = false;
  }
}

/** Characters a token character can be swapped for: the whole alphabet, URL-safe extras and a few that are not. */
const REPLACEMENTS = [...BASE62_ALPHABET, "-", "_", ".", "~", "+", "/", "=", " ", "%", "é", "\u0000", "😀"];

/** Same body and checksum under the other environment's prefix (checksum now wrong), or with the checksum recomputed. */
function withPrefixSwapped(token: string, from: Environment, to: Environment, recomputeChecksum: boolean): string {
  const head =
    SESSION_TOKEN_PREFIXES[to] + token.slice(SESSION_TOKEN_PREFIXES[from].length, token.length - CHECKSUM_LENGTH);
  return recomputeChecksum ? head + checksumOf(head) : head + token.slice(token.length - CHECKSUM_LENGTH);
}

const flipCase = (char: string) => (char === char.toUpperCase() ? char.toLowerCase() : char.toUpperCase());

describe("real tokens verify (the control that lets the properties below fail)", () => {
  it("each environment's token verifies with its own key and opens a session", async () => {
    for (const environment of ["test", "live"] as const) {
      const verified = await t.caller(keyOf[environment]).sessionTokens.verify({ sessionToken: real[environment] });
      expect(verified.valid).toBe(true);
      expect((await callerWith(t.h.deps, `Bearer ${real[environment]}`).session.get()).environment).toBe(environment);
    }
  });
});

describe("every damaged copy of a real token is refused", () => {
  it(
    "every single-character change (each position × each replacement) is caught by the checksum: malformed",
    async () => {
      let checked = 0;
      // One write check around the 9,768 candidates (2 tokens × 66 positions × 74 replacements): any write would show.
      await expectWritesNothing(async () => {
        for (const environment of ["test", "live"] as const) {
          const token = real[environment];
          for (let index = 0; index < token.length; index++) {
            for (const replacement of REPLACEMENTS) {
              if (replacement === token[index]) continue;
              // Refused: one changed character is a typo or a forgery; CRC-32 catches every single-byte change.
              await expectNeverVerifies(token.slice(0, index) + replacement + token.slice(index + 1), environment, [
                "malformed",
              ]);
              checked++;
            }
          }
        }
      });
      expect(checked).toBeGreaterThan(2 * 66 * 60);
    },
    PROPERTY_TIMEOUT_MS,
  );

  it("every truncation, every one-character extension and every single case flip is refused", async () => {
    for (const environment of ["test", "live"] as const) {
      const token = real[environment];
      // Refused: a truncated copy (empty → BAD_REQUEST, else malformed by length).
      for (let length = 0; length < token.length; length++)
        await expectNeverVerifies(token.slice(0, length), environment, ["malformed"]);
      // Refused: anything appended changes the length the format fixes.
      for (const extra of REPLACEMENTS) await expectNeverVerifies(token + extra, environment, ["malformed"]);
      // Refused: base62 is case-sensitive, and the prefix is lower-case.
      for (let index = 0; index < token.length; index++) {
        const flipped = token.slice(0, index) + flipCase(token[index]!) + token.slice(index + 1);
        if (flipped !== token) await expectNeverVerifies(flipped, environment, ["malformed"]);
      }
      await expectNeverVerifies(token.toUpperCase(), environment, ["malformed"]);
      await expectNeverVerifies(token.toLowerCase(), environment, ["malformed"]);
    }
  });

  it("swapped prefixes are refused, even with the checksum recomputed to match", async () => {
    for (const [from, to] of [
      ["test", "live"],
      ["live", "test"],
    ] as const) {
      const token = real[from];
      // Refused: the checksum covers the prefix, so relabelling the environment breaks it.
      await expectNeverVerifies(withPrefixSwapped(token, from, to, false), to, ["malformed"]);
      // Refused: a well-formed token nobody issued: unknown to the key of its claimed environment…
      const forged = withPrefixSwapped(token, from, to, true);
      await expectNeverVerifies(forged, to, ["not_found"]);
      // …and from the wrong environment for the key of the original one.
      await expectNeverVerifies(forged, from, ["wrong_environment"]);
      // Refused: a secret-key prefix or no environment at all is not a session token.
      const body = token.slice(SESSION_TOKEN_PREFIXES[from].length);
      await expectNeverVerifies(SECRET_KEY_PREFIXES[from] + body, from, ["malformed"]);
      await expectNeverVerifies(`bos_session_${body}`, from, ["malformed"]);
      await expectNeverVerifies(`bos_session_${from}${body}`, from, ["malformed"]);
    }
  });
});

/** A random edit of a token: replace, insert or delete a character, truncate, swap two, or flip case. */
const edit = fc.oneof(
  fc.record({
    kind: fc.constant("replace" as const),
    at: fc.nat(),
    char: fc.oneof(fc.constantFrom(...REPLACEMENTS), fc.string({ minLength: 1, maxLength: 1, unit: "binary" })),
  }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), char: fc.constantFrom(...REPLACEMENTS) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat() }),
);
type Edit = typeof edit extends fc.Arbitrary<infer E> ? E : never;

function applyEdit(token: string, change: Edit): string {
  if (token.length === 0) return change.kind === "insert" ? change.char : token;
  const at = change.at % token.length;
  switch (change.kind) {
    case "replace":
      return token.slice(0, at) + change.char + token.slice(at + 1);
    case "insert":
      return token.slice(0, at) + change.char + token.slice(at);
    case "delete":
      return token.slice(0, at) + token.slice(at + 1);
    case "truncate":
      return token.slice(0, at);
    case "swap":
      return at + 1 < token.length ? token.slice(0, at) + token[at + 1] + token[at] + token.slice(at + 2) : token;
    case "flip":
      return token.slice(0, at) + flipCase(token[at]!) + token.slice(at + 1);
  }
}

describe("property: random strings, random bytes and random damage never verify", () => {
  const environment = fc.constantFrom<Environment>("test", "live");

  it(
    "random strings (graphemes, binary, token-shaped) never verify",
    async () => {
      const candidates = fc.oneof(
        fc.string({ maxLength: 600 }),
        fc.string({ unit: "binary", maxLength: 600 }),
        fc.string({ unit: "grapheme", maxLength: 80 }),
        // Shaped like a real token (prefix, 49 base62 characters): fails the checksum, or is not issued.
        fc.stringMatching(/^bos_session_(test|live)_[0-9A-Za-z]{49}$/),
      );
      // Refused: nothing but an issued token verifies.
      await checkProperty(
        "tokens: random strings",
        fc.asyncProperty(candidates, environment, (candidate, env) => expectNeverVerifies(candidate, env)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "random bytes, read as latin1 and as UTF-8, never verify",
    async () => {
      const candidates = fc
        .record({
          bytes: fc.uint8Array({ maxLength: 600 }),
          encoding: fc.constantFrom<BufferEncoding>("latin1", "utf8"),
        })
        .map(({ bytes, encoding }) => Buffer.from(bytes).toString(encoding));
      // Refused: random bytes are not a token, whatever the encoding turns them into.
      await checkProperty(
        "tokens: random bytes",
        fc.asyncProperty(candidates, environment, (candidate, env) => expectNeverVerifies(candidate, env)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "real tokens with 1–5 random edits (replace, insert, delete, truncate, swap, case flip) never verify",
    async () => {
      const damaged = fc
        .record({ env: environment, edits: fc.array(edit, { minLength: 1, maxLength: 5 }), recompute: fc.boolean() })
        .map(({ env, edits, recompute }) => {
          let candidate = edits.reduce(applyEdit, real[env]);
          // Half the time the forger also recomputes the checksum: the result is then well-formed but was never issued.
          if (recompute && candidate.length > CHECKSUM_LENGTH) {
            const head = candidate.slice(0, -CHECKSUM_LENGTH);
            candidate = head + checksumOf(head);
          }
          return { env, candidate };
        })
        .filter(({ env, candidate }) => candidate !== real[env]);
      // Refused: a changed token is not the token that was issued.
      await checkProperty(
        "tokens: edited real tokens",
        fc.asyncProperty(damaged, ({ env, candidate }) => expectNeverVerifies(candidate, env)),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    "damaged secret keys and random Authorization headers never authenticate",
    async () => {
      const keys = [t.keys["A/test"].secretKey, t.keys["A/live"].secretKey];
      const authorization = fc.oneof(
        fc
          .record({ key: fc.constantFrom(...keys), edits: fc.array(edit, { minLength: 1, maxLength: 4 }) })
          .map(({ key, edits }) => ({ key, value: `Bearer ${edits.reduce(applyEdit, key)}` }))
          // An edit that gives the key back (a character replaced by itself, trailing whitespace) is no damage.
          .filter(({ key, value }) => value.replace(/\s+$/, "") !== `Bearer ${key}`),
        fc.string({ unit: "binary", maxLength: 300 }).map((value) => ({ key: "", value })),
        fc.string({ maxLength: 300 }).map((value) => ({ key: "", value: `Bearer ${value}` })),
      );
      await checkProperty(
        "tokens: damaged secret keys",
        fc.asyncProperty(authorization, async ({ value }) => {
          const before = await writeCounter(t.h.store, await tableNames(t.h.store));
          // Refused: a key that is not exactly an issued, unrevoked key is UNAUTHORIZED, before the input is read.
          const outcome = await settle(() =>
            callerWith(t.h.deps, value).sessionTokens.list({ externalUserId: "user_1" }),
          );
          expect(outcome.ok, `authenticated with ${JSON.stringify(value)}`).toBe(false);
          const error = (outcome as { error: unknown }).error;
          expect(error).toBeInstanceOf(TRPCError);
          expect((error as TRPCError).code).toBe("UNAUTHORIZED");
          expect(await writeCounter(t.h.store, await tableNames(t.h.store))).toBe(before);
        }),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
