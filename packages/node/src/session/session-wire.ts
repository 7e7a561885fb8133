import type {
  CurrentSession,
  currentSession,
  SessionCustomerView,
  SignedOut,
  sessionCustomerView,
  signedOut,
} from "@billingos/contracts";
import type { z } from "zod";
import { BillingOSError } from "../billingos-error.js";

// The customer-facing answers as they travel (instants are ISO strings) and their decoding into the
// contracts' types (instants are Dates). Types only come from the contracts' schemas, so a change of
// the wire shape fails to compile here; running the schemas themselves would cost the browser zod.

export type CurrentSessionWire = z.input<typeof currentSession>;
export type SessionCustomerViewWire = z.input<typeof sessionCustomerView>;
export type SignedOutWire = z.input<typeof signedOut>;

/** An ISO instant from the server; anything else means the answer is not BillingOS's. */
function instant(value: unknown): Date {
  const date = typeof value === "string" ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new BillingOSError({
      code: "INTERNAL_SERVER_ERROR",
      message: "BillingOS answered with a malformed timestamp",
    });
  }
  return date;
}

function record(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BillingOSError({
      code: "INTERNAL_SERVER_ERROR",
      message: "BillingOS answered with something that is not an object",
    });
  }
  return value as Record<string, unknown>;
}

export function decodeCurrentSession(wire: CurrentSessionWire): CurrentSession {
  const { tokenId, environment, expiresAt, operations } = record(wire) as CurrentSessionWire;
  return { tokenId, environment, expiresAt: instant(expiresAt), operations: [...operations] };
}

export function decodeSessionCustomerView(wire: SessionCustomerViewWire): SessionCustomerView {
  const { externalUserId, externalOrganizationId, email, stripeCustomer } = record(wire) as SessionCustomerViewWire;
  return {
    externalUserId,
    externalOrganizationId,
    email,
    stripeCustomer:
      stripeCustomer === null
        ? null
        : {
            stripeCustomerId: stripeCustomer.stripeCustomerId,
            email: stripeCustomer.email,
            name: stripeCustomer.name,
            createdAt: stripeCustomer.createdAt === null ? null : instant(stripeCustomer.createdAt),
          },
  };
}

export function decodeSignedOut(wire: SignedOutWire): SignedOut {
  const { tokenId, revokedAt } = record(wire) as SignedOutWire;
  return { tokenId, revokedAt: instant(revokedAt) };
}
