/**
 * The fetch the tRPC links use. It adds a per-request timeout, and turns an HTTP answer that is not
 * JSON (a proxy's HTML 502 or 413) into an error that keeps its status, which tRPC's link would
 * otherwise lose in "Unable to transform response from server".
 */
export class HttpAnswerError extends Error {
  override readonly name = "HttpAnswerError";
  constructor(
    readonly status: number,
    readonly retryAfterSeconds: number | undefined,
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

export function createHttpFetch(timeoutMs: number | undefined): typeof fetch {
  return async (input, init) => {
    const signal = timeoutMs === undefined ? init?.signal : anySignal(init?.signal, AbortSignal.timeout(timeoutMs));
    let response: Response;
    try {
      response = await fetch(input, { ...init, signal });
    } catch (error) {
      if (timeoutMs !== undefined && (error as Error)?.name === "TimeoutError") throw new RequestTimeoutError(timeoutMs);
      throw error;
    }
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok && !type.includes("json")) {
      const retryAfter = Number(response.headers.get("retry-after"));
      await response.body?.cancel();
      throw new HttpAnswerError(response.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
    }
    return response;
  };
}

function anySignal(a: AbortSignal | null | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}
