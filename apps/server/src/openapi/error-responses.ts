import { type ErrorCode, errorCode } from "@billingos/contracts";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPC_ERROR_CODES_BY_KEY } from "@trpc/server/rpc";

/**
 * Every error code the API answers with, its HTTP status and its JSON-RPC number, read from tRPC's
 * own tables (so the document cannot disagree with what the server sends), and what it means here.
 */
export interface ErrorCodeDoc {
  code: ErrorCode;
  httpStatus: number;
  /** `error.code` in the envelope: tRPC's JSON-RPC 2.0 number. */
  jsonRpcCode: number;
  /** The name of its response in components.responses. */
  responseName: string;
  meaning: string;
  /** Answered with a Retry-After header (seconds) and `error.data.retryAfterSeconds`. */
  retryAfter: boolean;
}

const MEANINGS: Record<ErrorCode, { responseName: string; meaning: string }> = {
  BAD_REQUEST: {
    responseName: "BadRequest",
    meaning:
      "The input is invalid (unknown field, wrong type, out of range; `error.data.fieldErrors` names the fields), not JSON, or not well-formed UTF-8.",
  },
  UNAUTHORIZED: {
    responseName: "Unauthorized",
    meaning:
      "The credential is missing, malformed, unknown, revoked, expired or of the wrong kind or environment. A session token's refusal never says why.",
  },
  FORBIDDEN: {
    responseName: "Forbidden",
    meaning: "The session token is valid but not scoped to the operation the procedure needs.",
  },
  NOT_FOUND: {
    responseName: "NotFound",
    meaning: "No such token or customer in this organization and environment, or no such procedure.",
  },
  CONFLICT: {
    responseName: "Conflict",
    meaning:
      "The customer is bound to another user, or the user to another customer; or the Idempotency-Key was used for a different request in the last 24 hours.",
  },
  PAYLOAD_TOO_LARGE: {
    responseName: "PayloadTooLarge",
    meaning:
      "The body is over the procedure's limit (MAX_BODY_BYTES; 1 KiB for a procedure without input), or a request imports more than 1,000 customers.",
  },
  TOO_MANY_REQUESTS: {
    responseName: "TooManyRequests",
    meaning:
      "A per-key rate limit, or this organization's share of the bodies being received at once. Retry after `Retry-After` seconds.",
  },
  METHOD_NOT_SUPPORTED: {
    responseName: "MethodNotSupported",
    meaning: "A query called with POST or a mutation with GET, or another HTTP method.",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    responseName: "UnsupportedMediaType",
    meaning: "A POST without `Content-Type: application/json` (curl -d sends a form type unless told otherwise).",
  },
  TIMEOUT: {
    responseName: "RequestTimeout",
    meaning: "The request did not arrive in time (headers within 10 s, the whole request within 30 s).",
  },
  SERVICE_UNAVAILABLE: {
    responseName: "ServiceUnavailable",
    meaning:
      "The database is busy or unreachable, or the server is receiving too many bodies at once. Nothing was written; retry after `Retry-After` seconds.",
  },
  INTERNAL_SERVER_ERROR: {
    responseName: "InternalServerError",
    meaning: 'A fault of the server\'s; the message says only "Internal server error" and the log has the rest.',
  },
};

const RETRY_AFTER: ReadonlySet<ErrorCode> = new Set(["TOO_MANY_REQUESTS", "SERVICE_UNAVAILABLE"]);

export const ERROR_CODE_DOCS: readonly ErrorCodeDoc[] = errorCode.options.map((code) => ({
  code,
  httpStatus: getHTTPStatusCodeFromError(new TRPCError({ code })),
  jsonRpcCode: TRPC_ERROR_CODES_BY_KEY[code],
  ...MEANINGS[code],
  retryAfter: RETRY_AFTER.has(code),
}));

export function errorCodeDoc(code: ErrorCode): ErrorCodeDoc {
  return ERROR_CODE_DOCS.find((doc) => doc.code === code)!;
}
