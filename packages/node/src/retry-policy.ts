/**
 * When and how long the node client waits before sending a request again (http-fetch.ts). What is
 * retried: a failure to get any answer (connection refused or cut, a timeout) and answers that say
 * "later" (429, and 5xx: the server or something in front of it failed). Every other answer is
 * final. Retrying a mutation is safe because each carries an Idempotency-Key (billingos.ts).
 */
export interface RetryPolicy {
  /** Retries after the first attempt (BillingOSOptions.maxNetworkRetries). */
  maxNetworkRetries: number;
  /** The first retry waits about this long, each next one twice as long. */
  initialDelayMs: number;
  /** No backoff wait is longer. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error goes to the caller, who decides. */
  maxRetryAfterMs: number;
}

export const DEFAULT_MAX_NETWORK_RETRIES = 2;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxNetworkRetries: DEFAULT_MAX_NETWORK_RETRIES,
  initialDelayMs: 500,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 10_000,
};

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Backoff with jitter for retry number `retry` (1, 2, …): between half and all of
 * initialDelayMs × 2^(retry−1), capped, so that clients that failed together do not come back
 * together. A Retry-After the server sent is waited for instead when it is longer; one longer than
 * maxRetryAfterMs gives up (undefined).
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined): number | undefined {
  if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) return undefined;
  const backoff = Math.min(policy.initialDelayMs * 2 ** (retry - 1), policy.maxDelayMs);
  const jittered = backoff / 2 + Math.random() * (backoff / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMsOf(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
