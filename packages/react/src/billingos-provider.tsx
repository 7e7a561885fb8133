"use client";

import { createContext, type ReactNode, useEffect, useState, useSyncExternalStore } from "react";
import {
  DEFAULT_SESSION_ROUTE,
  type GetSessionToken,
  type RevokeSessionTokens,
  revokeThroughRoute,
  sessionTokenFromRoute,
} from "./session-route.js";
import {
  type BillingOSState,
  DEFAULT_REFRESH_MARGIN_SECONDS,
  initialBillingOSState,
  SessionTokenStore,
  type SessionTokenStoreOptions,
} from "./session-token-store.js";

export interface BillingOSProviderProps {
  children?: ReactNode;
  /**
   * Asks the merchant backend for a session token: `{ sessionToken, expiresAt }`, or null when
   * nobody is signed in. Default: `POST sessionRoute`.
   */
  getSessionToken?: GetSessionToken;
  /** Revokes every token of the signed-in customer through the merchant backend. Default: `DELETE sessionRoute`. */
  revokeSessionTokens?: RevokeSessionTokens;
  /** The merchant backend's session-token route. Default: /api/billingos-session */
  sessionRoute?: string;
  /** Where `bos_session_test_` tokens go. Default http://localhost:4000 */
  sandboxUrl?: string;
  /** Where `bos_session_live_` tokens go. Default http://localhost:4000 */
  productionUrl?: string;
  /** Fetch the next token this many seconds before the current one expires (at most a third of its lifetime). Default 60. */
  refreshMarginSeconds?: number;
  /** Give up on a BillingOS call after this long. Default: none. */
  timeoutMs?: number;
}

export interface BillingOSContextValue {
  store: SessionTokenStore;
  state: BillingOSState;
}

export const BillingOSContext = createContext<BillingOSContextValue | null>(null);

function storeOptions(props: BillingOSProviderProps): SessionTokenStoreOptions {
  const route = props.sessionRoute ?? DEFAULT_SESSION_ROUTE;
  return {
    getSessionToken: props.getSessionToken ?? sessionTokenFromRoute(route),
    revokeSessionTokens: props.revokeSessionTokens ?? revokeThroughRoute(route),
    sandboxUrl: props.sandboxUrl,
    productionUrl: props.productionUrl,
    refreshMarginSeconds: props.refreshMarginSeconds ?? DEFAULT_REFRESH_MARGIN_SECONDS,
    timeoutMs: props.timeoutMs,
  };
}

const serverSnapshot = () => initialBillingOSState;

/**
 * Holds one BillingOS session token for everything below it. On the server it renders "loading"
 * and fetches nothing; in the browser it asks the merchant backend once, whoever asks first.
 */
export function BillingOSProvider(props: BillingOSProviderProps) {
  const [store] = useState(() => new SessionTokenStore(storeOptions(props)));
  // The latest callbacks and URLs are used for the next fetch; the token in hand is kept.
  useEffect(() => store.setOptions(storeOptions(props)));
  useEffect(() => {
    store.start();
    return () => store.stop();
  }, [store]);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, serverSnapshot);
  return <BillingOSContext.Provider value={{ store, state }}>{props.children}</BillingOSContext.Provider>;
}
