import { normalizeEmail } from "@billingos/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

// Issue item 7: lazy binding matches emails on normalizeEmail. If two different mailboxes normalize
// alike, an imported customer binds to the wrong person's account. The rule: normalize(a) ===
// normalize(b) only when a and b differ by ASCII case and surrounding whitespace, nothing else.

const isAsciiLetter = (unit: number) => (unit >= 0x41 && unit <= 0x5a) || (unit >= 0x61 && unit <= 0x7a);

/** Same length, and every UTF-16 unit equal or the same ASCII letter in the other case. */
function differOnlyByAsciiCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a.charCodeAt(i), b.charCodeAt(i)];
    if (x !== y && !(isAsciiLetter(x) && (x ^ 0x20) === y)) return false;
  }
  return true;
}

/** Characters whose Unicode case mappings land on, or next to, ASCII letters. */
const TRICKY = [
  "\u212A",
  "\u017F",
  "\u0130",
  "\u0131",
  "\uFB00",
  "\uFB01",
  "\u00DF",
  "\u1E9E",
  "\u212B",
  "\u2126",
  "\u03A3",
  "\u03C2",
];

const character = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.constantFrom(..."kKsSiIfFaA@.-_ "),
);
const address = fc.array(character, { maxLength: 24 }).map((chars) => chars.join(""));

/** A second address made from the first by Unicode case mappings of some characters, plus padding. */
const caseVariant = (chars: string[]) =>
  fc
    .tuple(
      fc.array(fc.constantFrom("same", "lower", "upper", "upper-then-lower", "turkish-lower"), {
        minLength: chars.length,
        maxLength: chars.length,
      }),
      fc.constantFrom("", " ", "\t", "\u00A0", "\n "),
    )
    .map(([mappings, padding]) => {
      const mapped = chars.map((char, i) => {
        switch (mappings[i]) {
          case "lower":
            return char.toLowerCase();
          case "upper":
            return char.toUpperCase();
          case "upper-then-lower":
            return char.toUpperCase().toLowerCase();
          case "turkish-lower":
            return char.toLocaleLowerCase("tr");
          default:
            return char;
        }
      });
      return padding + mapped.join("") + padding;
    });

const pair = fc
  .array(character, { maxLength: 24 })
  .chain((chars) => fc.tuple(fc.constant(chars.join("")), fc.oneof(caseVariant(chars), address)));

describe("normalizeEmail cannot make two different mailboxes equal", () => {
  it("normalize(a) === normalize(b) implies a and b differ only by ASCII case and surrounding whitespace", () => {
    fc.assert(
      fc.property(pair, ([a, b]) => {
        if (normalizeEmail(a) === normalizeEmail(b)) {
          expect(differOnlyByAsciiCase(a.trim(), b.trim()), JSON.stringify([a, b])).toBe(true);
        }
      }),
      { numRuns: 5_000, seed: 42 },
    );
  });

  it("addresses that differ only by ASCII case and surrounding whitespace normalize alike", () => {
    const asciiFlips = fc.array(fc.boolean(), { maxLength: 24 });
    fc.assert(
      fc.property(address, asciiFlips, fc.constantFrom("", " ", "\t\n"), (a, flips, padding) => {
        const b = [...a]
          .map((char, i) =>
            flips[i] && /^[A-Za-z]$/.test(char) ? String.fromCharCode(char.charCodeAt(0) ^ 0x20) : char,
          )
          .join("");
        expect(normalizeEmail(padding + b + padding)).toBe(normalizeEmail(a));
      }),
      { numRuns: 2_000, seed: 42 },
    );
  });

  it.each([
    ["KELVIN SIGN", "\u212Aate@x.com", "kate@x.com"],
    ["LATIN SMALL LETTER LONG S", "\u017Fam@x.com", "sam@x.com"],
    ["LATIN CAPITAL LETTER I WITH DOT ABOVE", "\u0130nfo@x.com", "info@x.com"],
    ["LATIN SMALL LIGATURE FF", "o\uFB00ice@x.com", "office@x.com"],
    ["KELVIN SIGN in the domain", "kate@\u212Aate.com", "kate@kate.com"],
  ])("%s: %j does not normalize to %j", (_name, tricky, plain) => {
    expect(normalizeEmail(tricky)).not.toBe(normalizeEmail(plain));
    expect(normalizeEmail(tricky)).toBe(tricky); // nothing but A–Z is ever changed
  });

  it("lower-cases A–Z and trims, as before", () => {
    expect(normalizeEmail("  Kate@X.COM\t")).toBe("kate@x.com");
    expect(normalizeEmail("   ")).toBeNull();
    expect(normalizeEmail(null)).toBeNull();
    expect(normalizeEmail(undefined)).toBeNull();
  });
});
