/** Digits, then upper, then lower case: the same order as byte comparison, so fixed-width strings sort. */
export const BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const BASE62_PATTERN = /^[0-9A-Za-z]*$/;

export function isBase62(value: string): boolean {
  return BASE62_PATTERN.test(value);
}

/** Encodes a non-negative integer below 62^width as exactly `width` base62 digits. */
export function encodeBase62Fixed(value: number, width: number): string {
  let rest = value;
  let out = "";
  for (let i = 0; i < width; i++) {
    out = BASE62_ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}
