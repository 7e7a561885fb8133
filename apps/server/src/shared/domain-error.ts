import type { ErrorCode } from "@billingos/contracts";
import { TRPCError } from "@trpc/server";

/**
 * What services throw when a rule says no; the message is shown to the caller, so it must be
 * something a person can act on. It is a TRPCError with the code to answer with, so it crosses
 * the tRPC layer as is: no middleware has to catch and re-throw it on every call.
 */
export class DomainError extends TRPCError {
  constructor(code: Exclude<ErrorCode, "INTERNAL_SERVER_ERROR">, message: string) {
    super({ code, message });
  }
}

/** A refusal that will pass: carries the hint the HTTP layer turns into a Retry-After header. */
export class RetryLaterError extends DomainError {
  constructor(
    code: "TOO_MANY_REQUESTS" | "SERVICE_UNAVAILABLE",
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(code, message);
  }
}

/** TOO_MANY_REQUESTS with the hint the HTTP layer turns into a Retry-After header. */
export class RateLimitedError extends RetryLaterError {
  constructor(message: string, retryAfterSeconds: number) {
    super("TOO_MANY_REQUESTS", message, retryAfterSeconds);
  }
}
