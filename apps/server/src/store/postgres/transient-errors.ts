import { RetryLaterError } from "../../shared/domain-error.js";

/** Socket-level failures: the server is down, restarting, or the network between is. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that is there but cannot serve now: shutting down (57P01 admin, 57P02
 * crash), starting up or in recovery (57P03), out of connection slots (53300). Class 08
 * (connection exceptions) is matched by prefix.
 */
const UNAVAILABLE_STATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** What pg and pg-pool throw, as plain Errors without a code, when a connection is lost or never made. */
const CONNECTION_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /connection timeout/i,
  /not queryable/i,
  /connection has been discarded/i,
  /cannot use a pool after calling end/i,
];

/** Raised by this engine when the database does not answer within a bound it sets (ping). */
export class DatabaseTimeoutError extends Error {
  override readonly name = "DatabaseTimeoutError";
}

function codeOf(error: object): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** The error and the errors it wraps (Kysely's migration wrapper, AggregateError of a multi-address connect). */
function* chain(error: unknown): Generator<object> {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const next = pending.shift();
    if (typeof next !== "object" || next === null || seen.has(next)) continue;
    seen.add(next);
    yield next;
    pending.push((next as { cause?: unknown }).cause);
    if (next instanceof AggregateError) pending.push(...next.errors);
  }
}

/** A serialization failure (40001) or deadlock (40P01): the whole transaction may simply run again. */
export function isRetryableConflict(error: unknown): boolean {
  for (const link of chain(error)) {
    const code = codeOf(link);
    if (code === "40001" || code === "40P01") return true;
  }
  return false;
}

/** The database cannot be reached or cannot serve now; a later attempt may succeed. */
export function isUnavailable(error: unknown): boolean {
  for (const link of chain(error)) {
    if (link instanceof DatabaseTimeoutError) return true;
    const code = codeOf(link);
    if (
      code !== undefined &&
      (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))
    ) {
      return true;
    }
    const message = link instanceof Error ? link.message : "";
    if (CONNECTION_MESSAGES.some((pattern) => pattern.test(message))) return true;
  }
  return false;
}

export function unavailableError(): RetryLaterError {
  return new RetryLaterError("SERVICE_UNAVAILABLE", "The database cannot be reached; retry in 1 s", 1);
}

export function busyError(): RetryLaterError {
  return new RetryLaterError("SERVICE_UNAVAILABLE", "The database is busy with conflicting writes; retry in 1 s", 1);
}

/** Store.retryLaterFor on PostgreSQL: a 503 for an unreachable or unavailable server, else undefined. */
export function retryLaterFor(error: unknown): RetryLaterError | undefined {
  return isUnavailable(error) ? unavailableError() : undefined;
}
