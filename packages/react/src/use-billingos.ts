"use client";

import type { BillingOSSession } from "@billingos/node/session";
import { useCallback, useContext } from "react";
import { BillingOSContext, type BillingOSContextValue } from "./billingos-provider.js";
import type { BillingOSStatus } from "./session-token-store.js";

export interface UseBillingOS {
  status: BillingOSStatus;
  /** The session client over the token in hand; null until status is "ready". */
  client: BillingOSSession | null;
  expiresAt: Date | null;
  /** Why status is "error" (the merchant backend failed, or handed over something that is not a token). */
  error: Error | null;
  /**
   * Revokes the token in hand, then every token of the customer through the merchant backend, then
   * clears the state (status "signed-out"). Rejects if the backend could not revoke them.
   */
  signOut(): Promise<void>;
  /** Starts over with a fresh token (after an error, or after signing in again). */
  retry(): void;
}

export function useBillingOSContext(hook: string): BillingOSContextValue {
  const context = useContext(BillingOSContext);
  if (context === null) throw new Error(`${hook}() must be called inside <BillingOSProvider>`);
  return context;
}

/** The provider's state and actions. */
export function useBillingOS(): UseBillingOS {
  const { store, state } = useBillingOSContext("useBillingOS");
  const signOut = useCallback(() => store.signOut(), [store]);
  const retry = useCallback(() => store.retry(), [store]);
  return { status: state.status, client: state.client, expiresAt: state.expiresAt, error: state.error, signOut, retry };
}
