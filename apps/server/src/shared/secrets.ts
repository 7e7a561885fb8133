import { hash, timingSafeEqual } from "node:crypto";
import { BASE62_ALPHABET, SECRET_BODY_LENGTH } from "@billingos/contracts";
import { poolRandomBytes } from "./random-pool.js";

/**
 * SECRET_BODY_LENGTH base62 characters from the CSPRNG (256 bits). Bytes of 248 and above are
 * dropped so that every character is uniform (248 = 4 × 62).
 */
export function randomSecretBody(): string {
  let body = "";
  while (body.length < SECRET_BODY_LENGTH) {
    for (const byte of poolRandomBytes(64)) {
      if (byte < 248) body += BASE62_ALPHABET[byte % 62];
      if (body.length === SECRET_BODY_LENGTH) break;
    }
  }
  return body;
}

/**
 * Secrets carry 256 random bits, so a fast one-way hash is enough: no dictionary to guess from.
 * Only this digest is stored; the secret itself never is.
 */
export function hashSecret(secret: string): string {
  return hash("sha256", secret, "hex");
}

/** A secret's SHA-256, as stored (hex) and as bytes (for the constant-time comparison). */
export interface SecretDigest {
  hex: string;
  bytes: Buffer;
}

export function digestSecret(secret: string): SecretDigest {
  // The one-shot hash: no Hash object per call (this runs twice per verify).
  const bytes = hash("sha256", secret, "buffer");
  return { hex: bytes.toString("hex"), bytes };
}

/** Constant-time check that a stored hex digest is this digest (one decode, no regex: the hot path). */
export function storedDigestMatches(storedHex: string, digest: SecretDigest): boolean {
  if (storedHex.length !== 64) return false;
  const stored = Buffer.from(storedHex, "hex");
  return stored.length === digest.bytes.length && timingSafeEqual(stored, digest.bytes);
}
