import { setTimeout as sleep } from "node:timers/promises";
import { requestIdOf } from "./billingos-error.js";
import { isRetryableStatus, type RetryPolicy, retryAfterMsOf, retryDelayMs } from "./retry-policy.js";

/**
 * The fetch the tRPC links use. It adds a per-attempt timeout, retries what is safe to retry
 * (retry-policy.ts), and turns an HTTP answer that is not JSON (a proxy's HTML 502 or 413) into an
 * error that keeps its status, which tRPC's link would otherwise lose in "Unable to transform
 * response from server".
 */
export class HttpAnswerError extends Error {
  override readonly name = "HttpAnswerError";
  constructor(
    readonly status: number,
    readonly retryAfterSeconds: number | undefined,
    readonly requestId: string | undefined,
  ) {
    super(`HTTP ${status} with a body that is not a BillingOS answer`);
  }
}

export class RequestTimeoutError extends Error {
  override readonly name = "RequestTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

const NO_RETRIES: RetryPolicy = { maxNetworkRetries: 0, initialDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

export function createHttpFetch(timeoutMs: number | undefined, policy: RetryPolicy = NO_RETRIES): typeof fetch {
  /** One attempt: the answer, or the error that says why there was none. */
  const attempt = async (input: Parameters<typeof fetch>[0], init: RequestInit | undefined): Promise<Response> => {
    const signal = timeoutMs === undefined ? init?.signal : anySignal(init?.signal, AbortSignal.timeout(timeoutMs));
    try {
      return await fetch(input, { ...init, signal });
    } catch (error) {
      if (timeoutMs !== undefined && (error as Error)?.name === "TimeoutError")
        throw new RequestTimeoutError(timeoutMs);
      throw error;
    }
  };

  return async (input, init) => {
    for (let retry = 1; ; retry++) {
      const canRetry = retry <= policy.maxNetworkRetries && !init?.signal?.aborted;
      let response: Response;
      try {
        response = await attempt(input, init);
      } catch (error) {
        // No answer (refused, cut, timed out): the request may or may not have arrived.
        const delay = canRetry && !init?.signal?.aborted ? retryDelayMs(policy, retry, undefined) : undefined;
        if (delay === undefined) throw error;
        await sleep(delay);
        continue;
      }
      if (canRetry && isRetryableStatus(response.status)) {
        const delay = retryDelayMs(policy, retry, retryAfterMsOf(response.headers.get("retry-after")));
        if (delay !== undefined) {
          await response.body?.cancel();
          await sleep(delay);
          continue;
        }
      }
      const type = response.headers.get("content-type") ?? "";
      if (!response.ok && !type.includes("json")) {
        const retryAfter = Number(response.headers.get("retry-after"));
        await response.body?.cancel();
        throw new HttpAnswerError(
          response.status,
          Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
          requestIdOf(response),
        );
      }
      return response;
    }
  };
}

function anySignal(a: AbortSignal | null | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}
