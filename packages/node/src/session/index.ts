// Browser-safe entry (@billingos/node/session): no Node built-ins, no process.env. A test bundles
// it for the browser to keep it that way.

export type {
  CurrentSession,
  Operation,
  SessionCustomerView,
  SignedOut,
  StripeCustomerView,
} from "@billingos/contracts";
export { BillingOSError, type BillingOSErrorCode } from "../billingos-error.js";
export { BillingOSSession, createSessionClient, type SessionClientOptions } from "./session-client.js";
