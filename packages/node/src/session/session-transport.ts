import type { ErrorData } from "@billingos/contracts";
import { BillingOSError, type BillingOSErrorCode, notFromTheApi, requestIdOf } from "../billingos-error.js";

// tRPC's HTTP wire for the three customer-facing procedures, over fetch: a query is
// `GET /trpc/<path>`, a mutation `POST /trpc/<path>`; the answer is `{ result: { data } }` or
// `{ error: { message, data } }`. This is all of @trpc/client the browser needs, at a fraction of
// its weight (the server is the same; the e2e tests run this client against it).

/** Every code a BillingOSError can carry; a Record so the compiler checks it against the contracts' list. */
const KNOWN_CODES: Record<BillingOSErrorCode, true> = {
  BAD_REQUEST: true,
  UNAUTHORIZED: true,
  FORBIDDEN: true,
  NOT_FOUND: true,
  CONFLICT: true,
  PAYLOAD_TOO_LARGE: true,
  UNSUPPORTED_MEDIA_TYPE: true,
  TOO_MANY_REQUESTS: true,
  METHOD_NOT_SUPPORTED: true,
  TIMEOUT: true,
  SERVICE_UNAVAILABLE: true,
  INTERNAL_SERVER_ERROR: true,
  CONNECTION_FAILED: true,
};
const isKnownCode = (code: string): code is BillingOSErrorCode => Object.hasOwn(KNOWN_CODES, code);

interface TrpcAnswer {
  result?: { data?: unknown };
  error?: { message?: unknown; data?: Partial<ErrorData> };
}

export interface TransportOptions {
  apiUrl: string;
  sessionToken: string;
  timeoutMs: number | undefined;
}

export async function callProcedure(
  options: TransportOptions,
  kind: "query" | "mutation",
  path: string,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${options.apiUrl}/trpc/${path}`, {
      method: kind === "query" ? "GET" : "POST",
      headers: {
        authorization: `Bearer ${options.sessionToken}`,
        ...(kind === "mutation" ? { "content-type": "application/json" } : {}),
      },
      ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
    });
  } catch (error) {
    if (options.timeoutMs !== undefined && (error as Error)?.name === "TimeoutError") {
      throw new BillingOSError({
        code: "TIMEOUT",
        message: `BillingOS did not answer: no answer within ${options.timeoutMs} ms`,
        cause: error,
      });
    }
    throw new BillingOSError({
      code: "CONNECTION_FAILED",
      message: `Could not reach BillingOS: ${error instanceof Error ? error.message : String(error)}`,
      cause: error,
    });
  }
  const requestId = requestIdOf(response);
  const answer = await answerOf(response);
  if (answer === null) throw notFromTheApi(response.status, retryAfterOf(response), undefined, requestId);
  if (response.ok && answer.result !== undefined) return answer.result.data;
  const data = answer.error?.data;
  if (data === undefined || typeof data.code !== "string")
    throw notFromTheApi(response.status, retryAfterOf(response), undefined, requestId);
  return Promise.reject(
    new BillingOSError({
      code: isKnownCode(data.code) ? data.code : "INTERNAL_SERVER_ERROR",
      message: typeof answer.error?.message === "string" ? answer.error.message : data.code,
      httpStatus: typeof data.httpStatus === "number" ? data.httpStatus : response.status,
      ...(data.fieldErrors === undefined ? {} : { fieldErrors: data.fieldErrors }),
      ...(data.formErrors === undefined ? {} : { formErrors: data.formErrors }),
      retryAfterSeconds: data.retryAfterSeconds,
      requestId,
    }),
  );
}

/** The answer's JSON, or null when it is not a tRPC answer at all (a proxy's HTML page, a wrong URL). */
async function answerOf(response: Response): Promise<TrpcAnswer | null> {
  if (!(response.headers.get("content-type") ?? "").includes("json")) {
    await response.body?.cancel();
    return null;
  }
  try {
    const json: unknown = await response.json();
    if (typeof json !== "object" || json === null || !("result" in json || "error" in json)) return null;
    return json as TrpcAnswer;
  } catch {
    return null;
  }
}

function retryAfterOf(response: Response): number | undefined {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}
