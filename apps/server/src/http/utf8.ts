import { isUtf8 } from "node:buffer";

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * Whether the query string's percent-decoding is well-formed UTF-8. URLSearchParams (which both
 * handlers read `?input=` with) silently turns ill-formed sequences into U+FFFD, so two
 * byte-different inputs would become one value; they are refused instead. Escapes that are not
 * `%XX` stay literal bytes, as URLSearchParams keeps them (so `%ZZ` still fails as bad JSON).
 */
export function isWellFormedQuery(search: string): boolean {
  if (!search.includes("%") && !/[\u0080-\uffff]/.test(search)) return true;
  // node hands the request target over as latin1: one char per byte.
  const raw = Buffer.from(search.replace(/\+/g, " "), "latin1");
  const bytes = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (byte === 0x25 && i + 2 < raw.length && HEX.test(raw.toString("latin1", i + 1, i + 3))) {
      bytes[length++] = Number.parseInt(raw.toString("latin1", i + 1, i + 3), 16);
      i += 2;
    } else {
      bytes[length++] = byte;
    }
  }
  return isUtf8(bytes.subarray(0, length));
}
