import { createCipheriv, createDecipheriv, hash, hkdfSync, randomBytes } from "node:crypto";
import { deserialize, serialize } from "node:v8";
import type { Scope } from "../shared/scope.js";

/**
 * A stored answer may hold a secret (a created session token's plaintext, which the database
 * otherwise never holds: SPEC §3). So it is sealed with AES-256-GCM under a key derived from the
 * Idempotency-Key, which is stored only as a hash: a copy of the database reads no answer without
 * the key its caller sent. Callers are told to send random keys (a UUID), as Stripe tells them.
 */
const INFO = "billingos idempotency answer v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function idempotencyKeyHash(idempotencyKey: string): string {
  return hash("sha256", idempotencyKey, "hex");
}

function sealingKey(idempotencyKey: string, scope: Scope): Buffer {
  return Buffer.from(hkdfSync("sha256", idempotencyKey, `${scope.organizationId}:${scope.environment}`, INFO, 32));
}

/**
 * The work's result as stored: V8's structured serialization keeps Dates as Dates and undefined
 * as undefined, so the replay hands the procedure exactly what the work returned the first time.
 */
export function sealAnswer(result: unknown, idempotencyKey: string, scope: Scope): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(idempotencyKey, scope), iv);
  const sealed = Buffer.concat([cipher.update(serialize(result)), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64");
}

export function openAnswer(stored: string, idempotencyKey: string, scope: Scope): unknown {
  const bytes = Buffer.from(stored, "base64");
  const decipher = createDecipheriv("aes-256-gcm", sealingKey(idempotencyKey, scope), bytes.subarray(0, IV_BYTES));
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return deserialize(Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]));
}
