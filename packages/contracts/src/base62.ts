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

/** Whether a character code is a base62 digit (the hot-path form of isBase62). */
export function isBase62Code(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** The number the base62 digits value[from, to) spell (checked to be base62 already). */
export function decodeBase62(value: string, from: number, to: number): number {
  let result = 0;
  for (let i = from; i < to; i++) {
    const code = value.charCodeAt(i);
    const digit = code <= 57 ? code - 48 : code <= 90 ? code - 55 : code - 61;
    result = result * 62 + digit;
  }
  return result;
}
