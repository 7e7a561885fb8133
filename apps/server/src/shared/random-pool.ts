import { randomBytes } from "node:crypto";

/** Bytes drawn from the CSPRNG at a time. */
const POOL_SIZE = 4096;

let pool: Buffer = Buffer.alloc(0);
let offset = 0;

/**
 * `length` fresh bytes from the CSPRNG, served from a pool filled 4 KiB at a time: one
 * randomBytes call per token creation costs ~2 µs of call overhead, three of them per creation
 * (token, token id, audit id). Each byte is handed out once; a refill takes a new buffer, so a
 * view returned earlier never changes. Node's own crypto.randomUUID pools the same way.
 */
export function poolRandomBytes(length: number): Buffer {
  if (length > POOL_SIZE) return randomBytes(length);
  if (offset + length > pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + length);
  offset += length;
  return bytes;
}
