import { describe, expect, it } from "vitest";
import {
  BASE62_ALPHABET,
  CHECKSUM_LENGTH,
  environmentOfPrefix,
  formatToken,
  parseToken,
  SECRET_BODY_LENGTH,
  SECRET_KEY_PREFIXES,
  SESSION_TOKEN_PREFIXES,
  type TokenKind,
  tokenPrefix,
} from "../src/index.js";
import {
  KIND_ENVIRONMENTS,
  otherEnvironment,
  otherKind,
  randomBase62Body,
  randomToken,
} from "./support/random-token.js";

describe("token prefixes (SPEC §2, §4)", () => {
  it("are the documented strings", () => {
    expect(SECRET_KEY_PREFIXES).toEqual({ test: "sk_test_", live: "sk_live_" });
    expect(SESSION_TOKEN_PREFIXES).toEqual({ test: "bos_session_test_", live: "bos_session_live_" });
    expect(tokenPrefix("sessionToken", "live")).toBe("bos_session_live_");
  });
});

describe("formatToken / parseToken round trip", () => {
  it.each(KIND_ENVIRONMENTS)(
    "%s/%s: a formatted token parses back to its kind and environment",
    (kind, environment) => {
      for (let i = 0; i < 50; i++) {
        const token = randomToken(kind, environment);
        expect(token.startsWith(tokenPrefix(kind, environment))).toBe(true);
        expect(token).toHaveLength(tokenPrefix(kind, environment).length + SECRET_BODY_LENGTH + CHECKSUM_LENGTH);
        // SPEC §3: URL-safe characters only.
        expect(token).toMatch(/^[A-Za-z0-9_]+$/);
        expect(encodeURIComponent(token)).toBe(token);
        expect(parseToken(token, kind)).toEqual({ kind, environment });
        // A token of one kind is never accepted as the other kind.
        expect(parseToken(token, otherKind(kind))).toBeNull();
      }
    },
  );

  it("the body holds at least 256 bits (SPEC §3)", () => {
    expect(SECRET_BODY_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(256);
  });

  it("formatToken refuses a body that is not SECRET_BODY_LENGTH base62 characters", () => {
    const body = randomBase62Body();
    expect(() => formatToken("secretKey", "test", body.slice(1))).toThrow(RangeError);
    expect(() => formatToken("secretKey", "test", `${body}a`)).toThrow(RangeError);
    expect(() => formatToken("secretKey", "test", `-${body.slice(1)}`)).toThrow(RangeError);
    expect(() => formatToken("sessionToken", "live", "")).toThrow(RangeError);
  });
});

// Characters a one-character typo can introduce: the whole alphabet plus some outside it.
const REPLACEMENTS = [...BASE62_ALPHABET, "-", "_", " ", "é"];

describe("every single-character change of a real token is rejected", () => {
  it.each(KIND_ENVIRONMENTS)("%s/%s", (kind, environment) => {
    const other = otherEnvironment(environment);
    for (let sample = 0; sample < 3; sample++) {
      const token = randomToken(kind, environment);
      const accepted: string[] = [];
      let mutants = 0;
      for (let position = 0; position < token.length; position++) {
        for (const replacement of REPLACEMENTS) {
          if (replacement === token[position]) continue;
          const mutant = token.slice(0, position) + replacement + token.slice(position + 1);
          mutants++;
          if (parseToken(mutant, kind) !== null) accepted.push(mutant);
          // One changed character can never make it claim the other environment or kind.
          expect(environmentOfPrefix(mutant, kind)).not.toBe(other);
          expect(parseToken(mutant, otherKind(kind))).toBeNull();
        }
      }
      expect(mutants).toBeGreaterThan(token.length * 60);
      expect(accepted).toEqual([]);
    }
  });
});

describe("other malformed tokens are rejected", () => {
  it.each(KIND_ENVIRONMENTS)("%s/%s: truncation at every length", (kind, environment) => {
    const token = randomToken(kind, environment);
    for (let length = 0; length < token.length; length++) {
      expect(parseToken(token.slice(0, length), kind)).toBeNull();
    }
  });

  it.each(KIND_ENVIRONMENTS)("%s/%s: one appended character", (kind, environment) => {
    const token = randomToken(kind, environment);
    for (const extra of REPLACEMENTS) expect(parseToken(token + extra, kind)).toBeNull();
    // Whitespace around a pasted token is not silently trimmed either.
    expect(parseToken(` ${token}`, kind)).toBeNull();
    expect(parseToken(`${token}\n`, kind)).toBeNull();
  });

  // The checksum covers the prefix, so body + checksum cannot be moved to another prefix.
  it.each(KIND_ENVIRONMENTS)("%s/%s: prefix swapped, body and checksum kept", (kind, environment) => {
    const token = randomToken(kind, environment);
    const tail = token.slice(tokenPrefix(kind, environment).length);
    const swaps: Array<[TokenKind, string]> = [
      [kind, tokenPrefix(kind, otherEnvironment(environment)) + tail],
      [otherKind(kind), tokenPrefix(otherKind(kind), environment) + tail],
      [otherKind(kind), tokenPrefix(otherKind(kind), otherEnvironment(environment)) + tail],
    ];
    for (const [swappedKind, swapped] of swaps) {
      expect(parseToken(swapped, swappedKind)).toBeNull();
      expect(parseToken(swapped, otherKind(swappedKind))).toBeNull();
    }
  });

  it("the empty string, a prefix alone and look-alike prefixes", () => {
    for (const [kind, environment] of KIND_ENVIRONMENTS) {
      expect(parseToken("", kind)).toBeNull();
      expect(parseToken(tokenPrefix(kind, environment), kind)).toBeNull();
    }
    const tail = randomToken("secretKey", "test").slice("sk_test_".length);
    for (const prefix of ["pk_test_", "SK_TEST_", "sk_testx_", "sk_test", "sk__test_", "rk_live_"]) {
      expect(parseToken(prefix + tail, "secretKey")).toBeNull();
    }
  });

  it("a token with a valid checksum over a non-base62 body is still rejected", () => {
    const head = `sk_test_${"-".repeat(SECRET_BODY_LENGTH)}`;
    const forged = head + formatToken("secretKey", "test", randomBase62Body()).slice(-CHECKSUM_LENGTH);
    expect(parseToken(forged, "secretKey")).toBeNull();
  });
});

describe("environmentOfPrefix", () => {
  it.each(KIND_ENVIRONMENTS)("%s/%s: reads the environment from the prefix alone", (kind, environment) => {
    const prefix = tokenPrefix(kind, environment);
    expect(environmentOfPrefix(prefix, kind)).toBe(environment);
    // No checksum or length check: that is parseToken's job.
    expect(environmentOfPrefix(`${prefix}anything-at-all`, kind)).toBe(environment);
    expect(environmentOfPrefix(randomToken(kind, environment), kind)).toBe(environment);
    // The other kind's prefix is not this kind's.
    expect(environmentOfPrefix(prefix, otherKind(kind))).toBeNull();
  });

  it("is null for anything that does not start with a prefix of that kind", () => {
    for (const value of [
      "",
      "sk_",
      "sk_test",
      "sk_testx_abc",
      "SK_TEST_abc",
      " sk_test_abc",
      "pk_live_abc",
      "bos_session_",
    ]) {
      expect(environmentOfPrefix(value, "secretKey")).toBeNull();
      expect(environmentOfPrefix(value, "sessionToken")).toBeNull();
    }
  });
});
