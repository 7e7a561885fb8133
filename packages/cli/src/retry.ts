import { errorData } from "@billingos/contracts";
import { BillingOSError } from "@billingos/node";

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The first wait; each next one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 };

/**
 * Failures worth sending the same batch again for: the request may not have arrived, or the
 * server was busy or broken for a moment. Retrying is safe because the import is an idempotent
 * upsert by Stripe id. Refusals of the request itself (bad input, bad key) would fail the same way
 * again, so they are not retried.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof BillingOSError)) return false;
  if (error.code === "CONNECTION_FAILED" || error.code === "TOO_MANY_REQUESTS" || error.code === "TIMEOUT") return true;
  // An INTERNAL_SERVER_ERROR that came with a 2xx is an answer off the contract (another server
  // version, a proxy's page): the same batch would get it again.
  if (error.httpStatus !== undefined) return error.httpStatus >= 500;
  return error.code === "INTERNAL_SERVER_ERROR";
}

/** The server's own hint on a 429, when it sent one (the wire's `retryAfterSeconds`). */
function retryAfterMs(error: BillingOSError): number | undefined {
  const data = errorData.safeParse((error.cause as { data?: unknown } | undefined)?.data);
  const seconds = data.success ? data.data.retryAfterSeconds : undefined;
  return seconds === undefined ? undefined : seconds * 1000;
}

export function retryDelayMs(policy: RetryPolicy, retry: number, error: BillingOSError): number {
  const backoff = Math.min(policy.baseDelayMs * 2 ** (retry - 1), policy.maxDelayMs);
  // Jitter keeps several importers that failed together from retrying in lockstep.
  const jittered = backoff * (0.8 + Math.random() * 0.4);
  return Math.max(jittered, retryAfterMs(error) ?? 0);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work`, and again after a growing wait while it fails transiently, up to `policy.attempts`
 * tries. `onRetry` hears of each retry before its wait.
 */
export async function withRetry<T>(
  work: () => Promise<T>,
  policy: RetryPolicy,
  onRetry: (error: BillingOSError, retry: number, delayMs: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || attempt >= policy.attempts) throw error;
      const delay = retryDelayMs(policy, attempt, error as BillingOSError);
      onRetry(error as BillingOSError, attempt, delay);
      await sleep(delay);
    }
  }
}
