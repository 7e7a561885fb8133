"use client";

import type { BillingOSSession } from "@billingos/node/session";
import { useCallback, useEffect, useState } from "react";
import { useBillingOSContext } from "./use-billingos.js";

export interface BillingOSQuery<T> {
  /** The last answer; kept while a newer token's answer is on its way. */
  data: T | undefined;
  /** The call's failure (a BillingOSError: FORBIDDEN for an operation outside the token's scope, …). */
  error: Error | undefined;
  /** Waiting for a token or for the first answer. */
  isLoading: boolean;
  /** Asks again. */
  refetch(): void;
}

interface Answer<T> {
  data: T | undefined;
  error: Error | undefined;
  /** The token generation and request the answer belongs to. */
  key: string;
}

const NO_ANSWER: Answer<never> = { data: undefined, error: undefined, key: "" };

/** Reads with the token in hand, once per token (a refreshed token shows its own answer). */
export function useBillingOSQuery<T>(hook: string, read: (client: BillingOSSession) => Promise<T>): BillingOSQuery<T> {
  const { store, state } = useBillingOSContext(hook);
  const [request, setRequest] = useState(0);
  const [answer, setAnswer] = useState<Answer<T>>(NO_ANSWER);
  const ready = state.status === "ready";
  const key = `${state.tokenGeneration}:${request}`;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `read` is one of this package's fixed readers; a new token or refetch() asks again.
  useEffect(() => {
    // Signed out, failed, or starting over: what was read with an earlier token is not shown again
    // (after a sign-out and a retry, it may have been another user's).
    if (!ready) return setAnswer(NO_ANSWER);
    let current = true;
    store.run(read).then(
      (data) => current && setAnswer({ data, error: undefined, key }),
      (error: unknown) =>
        current &&
        setAnswer((last) => ({
          data: last.data,
          error: error instanceof Error ? error : new Error(String(error)),
          key,
        })),
    );
    return () => {
      current = false;
    };
  }, [store, ready, key]);

  const refetch = useCallback(() => setRequest((count) => count + 1), []);
  const settled = answer.data !== undefined || answer.error !== undefined;
  // Signed out: what was read with the last token is no longer this browser's to show.
  if (state.status === "signed-out") return { data: undefined, error: undefined, isLoading: false, refetch };
  return {
    data: answer.data,
    error: answer.error ?? (state.status === "error" ? (state.error ?? undefined) : undefined),
    isLoading: state.status === "loading" || (ready && !settled),
    refetch,
  };
}
