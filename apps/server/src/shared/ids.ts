import { poolRandomBytes } from "./random-pool.js";

// Lower-case Crockford base32: no i, l, o, u, so ids survive being read aloud or typed.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const RANDOM_CHARS = 16; // 80 bits

let lastTime = -1;
let lastRandom: number[] = [];

function randomDigits(): number[] {
  // Five bits from each byte: 16 bytes give the 16 base32 digits.
  return Array.from(poolRandomBytes(RANDOM_CHARS), (byte) => byte & 31);
}

/** Adds one to a base32 number held as digits; false on overflow (2^80 ids in one millisecond). */
function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]!++;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

/**
 * A prefixed ULID (`tok_01j…`): 48 bits of milliseconds then 80 random bits. Ids sort by creation
 * time, and within one millisecond this process hands them out in increasing order (the random
 * part is incremented), so they serve as exact pagination cursors.
 */
export function newId(prefix: string, epochMilliseconds: number): string {
  if (epochMilliseconds === lastTime && increment(lastRandom)) {
    // same millisecond: lastRandom now holds the next value
  } else {
    lastTime = epochMilliseconds;
    lastRandom = randomDigits();
  }
  let time = "";
  let rest = epochMilliseconds;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  return `${prefix}_${time}${lastRandom.map((digit) => ALPHABET[digit]).join("")}`;
}
