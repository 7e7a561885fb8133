import type { ErrorCode } from "@billingos/contracts";

// No zod and no tRPC here: the browser's session client throws these too, and its bundle must stay
// small. Turning a tRPC or zod failure into one lives in trpc-errors.ts (the Node client's side).

/** The server's error codes, plus CONNECTION_FAILED when no answer came back at all. */
export type BillingOSErrorCode = ErrorCode | "CONNECTION_FAILED";

export interface BillingOSErrorInit {
  code: BillingOSErrorCode;
  message: string;
  httpStatus?: number | undefined;
  fieldErrors?: Record<string, string[]>;
  formErrors?: string[];
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

/** Every failure of the client: `code` to branch on, `fieldErrors` to show next to a form field. */
export class BillingOSError extends Error {
  override readonly name = "BillingOSError";
  readonly code: BillingOSErrorCode;
  readonly httpStatus: number | undefined;
  readonly fieldErrors: Record<string, string[]>;
  readonly formErrors: string[];
  /** With TOO_MANY_REQUESTS: seconds to wait before trying again. */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: BillingOSErrorInit) {
    super(init.message, { cause: init.cause });
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.fieldErrors = init.fieldErrors ?? {};
    this.formErrors = init.formErrors ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/** The code an HTTP status stands for, when the answer did not say (a proxy's page, a wrong URL). */
export function codeForHttpStatus(status: number): BillingOSErrorCode {
  const byStatus: Record<number, BillingOSErrorCode> = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_SUPPORTED",
    408: "TIMEOUT",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    429: "TOO_MANY_REQUESTS",
    504: "TIMEOUT",
  };
  return byStatus[status] ?? "INTERNAL_SERVER_ERROR";
}

/** An answer came, but not from the BillingOS API: a wrong base URL, or a proxy in between. */
export function notFromTheApi(status: number, retryAfterSeconds: number | undefined, cause: unknown): BillingOSError {
  const message =
    status === 404 || status === 405
      ? `BillingOS API not found at this URL (HTTP ${status}); check sandboxUrl / productionUrl (the server's base URL, without /trpc)`
      : `HTTP ${status} from something in front of BillingOS (a proxy or load balancer?), not from the API itself`;
  return new BillingOSError({ code: codeForHttpStatus(status), httpStatus: status, message, retryAfterSeconds, cause });
}
