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
  requestId?: string | undefined;
  cause?: unknown;
}

/** Marks BillingOSErrors of every copy of this package (its ESM and CommonJS builds are two). */
const BRAND = Symbol.for("@billingos/node/BillingOSError");

/** Every failure of the client: `code` to branch on, `fieldErrors` to show next to a form field. */
export class BillingOSError extends Error {
  /**
   * `error instanceof BillingOSError` holds whichever build made the error: an app that loads both
   * the ESM and the CommonJS build (a bundler beside a `require`) has two copies of this class.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  override readonly name = "BillingOSError";
  readonly code: BillingOSErrorCode;
  readonly httpStatus: number | undefined;
  readonly fieldErrors: Record<string, string[]>;
  readonly formErrors: string[];
  /** With TOO_MANY_REQUESTS: seconds to wait before trying again. */
  readonly retryAfterSeconds: number | undefined;
  /**
   * The `x-request-id` of the answer that refused the call: quote it to support, who find the
   * request's log line by it. Undefined when no answer came (CONNECTION_FAILED, TIMEOUT), when the
   * call was refused before it was sent (bad input), or when the answer carried none.
   */
  readonly requestId: string | undefined;

  constructor(init: BillingOSErrorInit) {
    super(init.message, { cause: init.cause });
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.fieldErrors = init.fieldErrors ?? {};
    this.formErrors = init.formErrors ?? [];
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.requestId = init.requestId;
  }

  /** `BillingOSError: <message> (request req_…)`: what a log line built from the error should carry. */
  override toString(): string {
    return `${this.name}: ${this.message}${this.requestId === undefined ? "" : ` (request ${this.requestId})`}`;
  }
}

/** The answer's `x-request-id`, if it carried one. */
export function requestIdOf(response: { headers: Headers }): string | undefined {
  return response.headers.get("x-request-id") ?? undefined;
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
export function notFromTheApi(
  status: number,
  retryAfterSeconds: number | undefined,
  cause: unknown,
  requestId?: string,
): BillingOSError {
  const message =
    status === 404 || status === 405
      ? `BillingOS API not found at this URL (HTTP ${status}); check sandboxUrl / productionUrl (the server's base URL, without /trpc)`
      : status >= 300 && status < 400
        ? `HTTP ${status}, a redirect: the client does not follow redirects (they would send the request elsewhere); set sandboxUrl / productionUrl to the URL it points to`
        : `HTTP ${status} from something in front of BillingOS (a proxy or load balancer?), not from the API itself`;
  return new BillingOSError({
    code: codeForHttpStatus(status),
    httpStatus: status,
    message,
    retryAfterSeconds,
    requestId,
    cause,
  });
}

Object.defineProperty(BillingOSError.prototype, BRAND, { value: true });
