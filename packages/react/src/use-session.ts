"use client";

import type { BillingOSSession, CurrentSession, SessionCustomerView } from "@billingos/node/session";
import { type BillingOSQuery, useBillingOSQuery } from "./use-billingos-query.js";

const readSession = (client: BillingOSSession) => client.getSession();
const readCustomer = (client: BillingOSSession) => client.getCustomer();

/** The token in hand: its id, environment, expiry and operations (needs `session:read`). */
export function useSession(): BillingOSQuery<CurrentSession> {
  return useBillingOSQuery("useSession", readSession);
}

/** The signed-in customer and the Stripe customer bound to them, if any (needs `customer:read`). */
export function useCustomer(): BillingOSQuery<SessionCustomerView> {
  return useBillingOSQuery("useCustomer", readCustomer);
}
