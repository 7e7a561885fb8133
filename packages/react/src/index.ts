"use client";

export { BillingOSProvider, type BillingOSProviderProps } from "./billingos-provider.js";
export { useBillingOS, type UseBillingOS } from "./use-billingos.js";
export { useCustomer, useSession } from "./use-session.js";
export type { BillingOSQuery } from "./use-billingos-query.js";
export type { BillingOSState, BillingOSStatus } from "./session-token-store.js";
export {
  DEFAULT_SESSION_ROUTE,
  type GetSessionToken,
  type RevokeSessionTokens,
  SessionRouteError,
  type SessionTokenGrant,
} from "./session-route.js";
export { type BillingOSErrorCode, BillingOSError, type BillingOSSession } from "@billingos/node/session";
export type { CurrentSession, Operation, SessionCustomerView, StripeCustomerView } from "@billingos/node/session";
