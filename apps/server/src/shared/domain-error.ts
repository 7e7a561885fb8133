import type { ErrorCode } from "@billingos/contracts";

/**
 * What services throw when a rule says no. The tRPC layer turns it into an error response with
 * this code; the message is shown to the caller, so it must be something a person can act on.
 */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: Exclude<ErrorCode, "INTERNAL_SERVER_ERROR">,
    message: string,
  ) {
    super(message);
  }
}

/** TOO_MANY_REQUESTS with the hint the HTTP layer turns into a Retry-After header. */
export class RateLimitedError extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("TOO_MANY_REQUESTS", message);
  }
}
