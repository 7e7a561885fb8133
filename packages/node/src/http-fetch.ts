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

/** The most an answer may weigh: the largest the API gives (a page of 100 tokens with full metadata) is ~1 MiB. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** An answer over MAX_ANSWER_BYTES: not the API's (a proxy or another server at that URL); not read further. */
export class AnswerTooLargeError extends Error {
  override readonly name = "AnswerTooLargeError";
  constructor(readonly status: number) {
    super(
      `the answer (HTTP ${status}) is over ${MAX_ANSWER_BYTES} bytes, more than any BillingOS answer; not read further`,
    );
  }
}

const NO_RETRIES: RetryPolicy = { maxNetworkRetries: 0, initialDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 };

/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export function createHttpFetch(timeoutMs: number | undefined, policy: RetryPolicy = NO_RETRIES): typeof fetch {
  /**
   * One attempt, the whole answer read (capped at MAX_ANSWER_BYTES) within `timeoutMs` from the
   * start: a server that sends its headers and then stalls is a timeout too. The timer is our own
   * setTimeout: on Node 20, a signal from AbortSignal.any() over AbortSignal.timeout() can be
   * collected by the GC and then never fire, leaving the call hanging for good.
   */
  const attempt = async (input: Parameters<typeof fetch>[0], init: RequestInit | undefined): Promise<Response> => {
    const controller = new AbortController();
    const outer = init?.signal ?? undefined;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener("abort", forward, { once: true });
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort(new RequestTimeoutError(timeoutMs));
          }, timeoutMs);
    try {
      // Not followed: a redirect would resend the body to wherever it points (another host too).
      const response = await fetch(input, { ...init, signal: controller.signal, redirect: "manual" });
      const body = await readCapped(response);
      return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    } catch (error) {
      if (timedOut && timeoutMs !== undefined) throw new RequestTimeoutError(timeoutMs);
      throw error;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forward);
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
      // Every BillingOS answer is JSON: anything else (a proxy's HTML page, a redirect, even with a
      // 200) keeps its status in the error rather than becoming "could not reach".
      if (!type.includes("json") || (response.status >= 300 && response.status < 400)) {
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

/** The answer's text, or AnswerTooLargeError past MAX_ANSWER_BYTES (the rest is not read). */
async function readCapped(response: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body === null) return "";
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel().catch(() => {});
      throw new AnswerTooLargeError(response.status);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}
