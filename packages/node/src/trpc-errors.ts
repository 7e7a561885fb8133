import { errorCode, errorData, validationDetailsOf, validationMessageOf } from "@billingos/contracts";
import { TRPCClientError } from "@trpc/client";
import { z } from "zod";
import { BillingOSError, type BillingOSErrorCode, notFromTheApi, requestIdOf } from "./billingos-error.js";
import { AnswerTooLargeError, HttpAnswerError, RequestTimeoutError } from "./http-fetch.js";

/** The server's error codes, plus CONNECTION_FAILED when no answer came back at all. */
export const billingOSErrorCode = z.enum([
  ...errorCode.options,
  "CONNECTION_FAILED",
]) satisfies z.ZodType<BillingOSErrorCode>;

/** The same error the server would answer for this input, raised before anything is sent. */
export function billingOSErrorFromValidation(error: z.ZodError): BillingOSError {
  const details = validationDetailsOf(error);
  return new BillingOSError({
    code: "BAD_REQUEST",
    message: validationMessageOf(details),
    httpStatus: 400,
    ...details,
  });
}

/**
 * Converts whatever a tRPC call threw into a BillingOSError. `url`, the base URL the call went to,
 * is named first in a connection failure: the usual fix is the URL or the server at it.
 */
export function billingOSErrorFromUnknown(error: unknown, url?: string): BillingOSError {
  if (error instanceof BillingOSError) return error;
  if (error instanceof TRPCClientError) {
    const response = responseOf(error.meta);
    const requestId = response === undefined ? undefined : requestIdOf(response);
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
        requestId,
        cause: error,
      });
    }
    if (error.cause instanceof RequestTimeoutError) {
      return new BillingOSError({
        code: "TIMEOUT",
        message: `BillingOS did not answer: ${error.cause.message}`,
        cause: error,
      });
    }
    if (error.cause instanceof AnswerTooLargeError) {
      return new BillingOSError({
        code: "INTERNAL_SERVER_ERROR",
        httpStatus: error.cause.status,
        message: `Not a BillingOS answer: ${error.cause.message}`,
        requestId,
        cause: error,
      });
    }
    if (error.cause instanceof HttpAnswerError) {
      const { status, retryAfterSeconds, requestId } = error.cause;
      return notFromTheApi(status, retryAfterSeconds, error, requestId);
    }
    if (response !== undefined) return notFromTheApi(response.status, undefined, error, requestId);
  }
  return new BillingOSError({
    code: "CONNECTION_FAILED",
    message: `Could not reach BillingOS${url === undefined ? "" : ` at ${url}`}: ${connectionFailureOf(error)}`,
    cause: error,
  });
}

/** The HTTP answer tRPC's link keeps in an error's `meta`, when there was one. */
function responseOf(meta: unknown): { status: number; headers: Headers } | undefined {
  const response = (meta as { response?: unknown } | undefined)?.response;
  return response instanceof Response ? response : undefined;
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
