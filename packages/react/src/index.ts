"use client";

export type { CurrentSession, Operation, SessionCustomerView, StripeCustomerView } from "@billingos/node/session";
export { BillingOSError, type BillingOSErrorCode, type BillingOSSession } from "@billingos/node/session";
export { BillingOSProvider, type BillingOSProviderProps } from "./billingos-provider.js";
export {
  DEFAULT_SESSION_ROUTE,
  type GetSessionToken,
  type RevokeSessionTokens,
  SessionRouteError,
  type SessionTokenGrant,
} from "./session-route.js";
export type { BillingOSState, BillingOSStatus } from "./session-token-store.js";
export { type UseBillingOS, useBillingOS } from "./use-billingos.js";
export type { BillingOSQuery } from "./use-billingos-query.js";
export { useCustomer, useSession } from "./use-session.js";
