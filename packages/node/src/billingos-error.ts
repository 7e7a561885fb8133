import { errorCode, errorData, validationDetailsOf, validationMessageOf } from "@billingos/contracts";
import { TRPCClientError } from "@trpc/client";
import { z } from "zod";
import { HttpAnswerError, RequestTimeoutError } from "./http-fetch.js";

/** The server's error codes, plus CONNECTION_FAILED when no answer came back at all. */
export const billingOSErrorCode = z.enum([...errorCode.options, "CONNECTION_FAILED"]);
export type BillingOSErrorCode = z.infer<typeof billingOSErrorCode>;

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

  /** The same error the server would answer for this input, raised before anything is sent. */
  static fromValidation(error: z.ZodError): BillingOSError {
    const details = validationDetailsOf(error);
    return new BillingOSError({ code: "BAD_REQUEST", message: validationMessageOf(details), httpStatus: 400, ...details });
  }

  /**
   * Converts whatever a tRPC call threw into a BillingOSError. `url`, the base URL the call went
   * to, is named first in a connection failure: the usual fix is the URL or the server at it.
   */
  static fromUnknown(error: unknown, url?: string): BillingOSError {
    if (error instanceof BillingOSError) return error;
    if (error instanceof TRPCClientError) {
      const data = errorData.safeParse(error.data);
      if (data.success) {
        const code = billingOSErrorCode.safeParse(data.data.code);
        return new BillingOSError({
          code: code.success ? code.data : "INTERNAL_SERVER_ERROR",
          message: error.message,
          httpStatus: data.data.httpStatus,
          fieldErrors: data.data.fieldErrors,
          formErrors: data.data.formErrors,
          retryAfterSeconds: data.data.retryAfterSeconds,
          cause: error,
        });
      }
      if (error.cause instanceof RequestTimeoutError) {
        return new BillingOSError({ code: "TIMEOUT", message: `BillingOS did not answer: ${error.cause.message}`, cause: error });
      }
      const answer =
        error.cause instanceof HttpAnswerError
          ? { status: error.cause.status, retryAfterSeconds: error.cause.retryAfterSeconds }
          : { status: (error.meta as { response?: { status?: unknown } } | undefined)?.response?.status, retryAfterSeconds: undefined };
      if (typeof answer.status === "number") {
        // An answer came, but not from the BillingOS API: a wrong base URL, or a proxy in between.
        const message =
          answer.status === 404 || answer.status === 405
            ? `BillingOS API not found at this URL (HTTP ${answer.status}); check sandboxUrl / productionUrl (the server's base URL, without /trpc)`
            : `HTTP ${answer.status} from something in front of BillingOS (a proxy or load balancer?), not from the API itself`;
        return new BillingOSError({
          code: codeForHttpStatus(answer.status),
          httpStatus: answer.status,
          message,
          retryAfterSeconds: answer.retryAfterSeconds,
          cause: error,
        });
      }
      return new BillingOSError({
        code: "CONNECTION_FAILED",
        message: `Could not reach BillingOS${url === undefined ? "" : ` at ${url}`}: ${connectionFailureOf(error)}`,
        cause: error,
      });
    }
    return new BillingOSError({
      code: "CONNECTION_FAILED",
      message: `Could not reach BillingOS${url === undefined ? "" : ` at ${url}`}: ${connectionFailureOf(error)}`,
      cause: error,
    });
  }
}

/**
 * What failed, from the innermost cause that says it: "connect ECONNREFUSED 127.0.0.1:4000" rather
 * than fetch's "fetch failed", with a hint for the common cases.
 */
function connectionFailureOf(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  let code: string | undefined;
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    message = cause.message;
    const causeCode = (cause as { code?: unknown }).code;
    if (typeof causeCode === "string") code = causeCode;
  }
  if (code === "ECONNREFUSED") return `${message} (is the server running on that port?)`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `${message} (no such host)`;
  return message;
}

function codeForHttpStatus(status: number): BillingOSErrorCode {
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
