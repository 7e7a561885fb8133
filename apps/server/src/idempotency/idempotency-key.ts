import { hash } from "node:crypto";
import { DomainError } from "../shared/domain-error.js";

/** The header a merchant mutation may carry (SPEC §9). */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** As Stripe: keys up to 255 characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** How long an answer is replayed; after it the same key does the work again. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Printable ASCII (space to tilde): what a header value can carry without mangling by proxies. */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * The key as sent, checked: one header of 1–255 printable ASCII characters, else a 400 that says
 * which rule it broke.
 */
export function checkedIdempotencyKey(sent: string | readonly string[]): string {
  if (typeof sent !== "string") {
    throw new DomainError("BAD_REQUEST", `Idempotency-Key was sent ${sent.length} times; send it once`);
  }
  const value = sent;
  if (value.length === 0)
    throw new DomainError(
      "BAD_REQUEST",
      "Idempotency-Key is empty: send 1–255 printable ASCII characters (a UUID is best)",
    );
  if (value.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new DomainError(
      "BAD_REQUEST",
      `Idempotency-Key is ${value.length} characters long; at most ${MAX_IDEMPOTENCY_KEY_LENGTH} are allowed`,
    );
  }
  if (!PRINTABLE_ASCII.test(value)) {
    throw new DomainError("BAD_REQUEST", "Idempotency-Key may hold only printable ASCII characters (space to ~)");
  }
  return value;
}

/**
 * JSON with every object's keys in sorted order, so that the same input sent with its fields in
 * another order is the same request. Runs on validated input only (its depth is bounded).
 */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const entries = Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** What a retry must repeat for its key to replay: the procedure and its validated input. */
export function requestHash(path: string, input: unknown): string {
  return hash("sha256", `${path}\n${canonicalJson(input)}`, "hex");
}
