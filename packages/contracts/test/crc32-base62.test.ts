import { describe, expect, it } from "vitest";
import { BASE62_ALPHABET, crc32, encodeBase62Fixed, isBase62 } from "../src/index.js";

describe("crc32", () => {
  // Known answers of CRC-32/IEEE (the "check" value of the catalogue and two common vectors).
  it.each([
    ["", 0x00000000],
    ["123456789", 0xcbf43926],
    ["a", 0xe8b7be43],
    ["The quick brown fox jumps over the lazy dog", 0x414fa339],
  ])("crc32(%j) is the standard value", (input, expected) => {
    expect(crc32(input)).toBe(expected);
  });

  it("returns an unsigned 32-bit integer", () => {
    for (const input of ["", "x", "sk_test_", "zzzzzzzzzzzzzzzzzzzz"]) {
      const value = crc32(input);
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(0xffffffff);
    }
  });
});

/** Test-side decoder, independent of the encoder under test. */
function decodeBase62(digits: string): number {
  let value = 0;
  for (const digit of digits) value = value * 62 + BASE62_ALPHABET.indexOf(digit);
  return value;
}

describe("base62", () => {
  it("has 62 distinct characters in byte order (digits, upper, lower)", () => {
    expect(BASE62_ALPHABET).toHaveLength(62);
    expect(new Set(BASE62_ALPHABET).size).toBe(62);
    expect([...BASE62_ALPHABET].sort().join("")).toBe(BASE62_ALPHABET);
  });

  it("isBase62 accepts only [0-9A-Za-z]", () => {
    expect(isBase62(BASE62_ALPHABET)).toBe(true);
    expect(isBase62("")).toBe(true);
    for (const bad of ["-", "_", " ", "é", "a\n", "+", "/", "="]) expect(isBase62(bad)).toBe(false);
  });

  it.each([
    [0, 6, "000000"],
    [61, 1, "z"],
    [62, 2, "10"],
    [62 ** 6 - 1, 6, "zzzzzz"],
    [0xffffffff, 6, "4gfFC3"],
  ])("encodeBase62Fixed(%d, %d) is %j", (value, width, expected) => {
    expect(encodeBase62Fixed(value, width)).toBe(expected);
  });

  it("always gives exactly `width` digits that decode back to the value", () => {
    for (let i = 0; i < 2000; i++) {
      const value = Math.floor(Math.random() * 2 ** 32);
      const encoded = encodeBase62Fixed(value, 6);
      expect(encoded).toHaveLength(6);
      expect(isBase62(encoded)).toBe(true);
      expect(decodeBase62(encoded)).toBe(value);
    }
  });

  // Fixed-width encodings sort (by plain string comparison) in the same order as their numbers.
  it("fixed-width strings sort like the numbers they encode", () => {
    const values = [0, 1, 9, 10, 35, 36, 61, 62, 63, 3843, 3844, 0xffffffff];
    for (let i = 0; i < 500; i++) values.push(Math.floor(Math.random() * 2 ** 32));
    const byNumber = [...values].sort((a, b) => a - b).map((v) => encodeBase62Fixed(v, 6));
    const byString = values.map((v) => encodeBase62Fixed(v, 6)).sort();
    expect(byString).toEqual(byNumber);
  });
});
