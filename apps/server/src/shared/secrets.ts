import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { BASE62_ALPHABET, SECRET_BODY_LENGTH } from "@billingos/contracts";

/**
 * SECRET_BODY_LENGTH base62 characters from the CSPRNG (256 bits). Bytes of 248 and above are
 * dropped so that every character is uniform (248 = 4 × 62).
 */
export function randomSecretBody(): string {
  let body = "";
  while (body.length < SECRET_BODY_LENGTH) {
    for (const byte of randomBytes(64)) {
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
  return createHash("sha256").update(secret).digest("hex");
}

const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** Constant-time equality of two SHA-256 hex digests; anything that is not one is unequal. */
export function digestsEqual(a: string, b: string): boolean {
  if (!HEX_DIGEST.test(a) || !HEX_DIGEST.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}
