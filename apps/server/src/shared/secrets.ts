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

/** Constant-time equality of two hex digests of the same length. */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}
