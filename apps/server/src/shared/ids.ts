import { randomBytes } from "node:crypto";

// Lower-case Crockford base32: no i, l, o, u, so ids survive being read aloud or typed.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A prefixed ULID (`tok_01j…`): 48 bits of milliseconds then 80 random bits, so ids sort by creation
 * time and can serve as pagination cursors.
 */
export function newId(prefix: string, epochMilliseconds: number): string {
  let time = "";
  let rest = epochMilliseconds;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  const random = randomBytes(10);
  let tail = "";
  // 80 bits as 16 five-bit groups, read two bytes at a time so every byte contributes.
  let bits = 0;
  let value = 0;
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      tail += ALPHABET[(value >> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return `${prefix}_${time}${tail}`;
}
