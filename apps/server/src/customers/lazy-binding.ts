import { normalizeEmail } from "@billingos/contracts";
import type { AuditEntry } from "../audit/audit.repository.js";
import type { Scope } from "../shared/scope.js";
import type { Queryable } from "../store/queryable.js";
import { recordBinding } from "./customer-binding-audit.js";
import { lockCustomersOf } from "./customer-scope-lock.js";
import {
  adjustUnresolvedCount,
  bindCustomer,
  findCustomerBoundTo,
  findUnboundCustomersByEmail,
  markEmailAmbiguous,
} from "./imported-customers.repository.js";

/**
 * Whether a creation for `user` may bind a customer by email at all: it has an email, and the
 * email is not said to be unverified (nor left unsaid where verified emails are required).
 */
export function mayBindByEmail(
  user: { email?: string | null | undefined; emailVerified?: boolean | undefined },
  requireVerifiedEmail: boolean,
): boolean {
  if (user.emailVerified === false || (requireVerifiedEmail && user.emailVerified !== true)) return false;
  return normalizeEmail(user.email) !== null;
}

/**
 * SPEC §5, at token creation, inside the caller's write transaction: the unbound customers whose
 * email is exactly the given one (normalizeEmail: trimmed, ASCII letters lower-cased) are the
 * candidates. Exactly one candidate is bound to the user, unless:
 * - the email is ambiguous: two or more unbound customers have shared it, now or before (the
 *   lookup then finds no candidate; they stay `email_shared` until bound by hand);
 * - the candidate's binding was undone by the merchant (`binding_undone`: by hand only);
 * - the user is already bound to a customer (never to a second one);
 * - the merchant says the email is not verified (`emailVerified: false`), or does not say it is
 *   while `requireVerifiedEmail` (ServiceDeps.lazyBindingRequiresVerifiedEmail) is on.
 */
export async function bindCustomerByEmail(
  trx: Queryable,
  scope: Scope,
  user: { externalUserId: string; email?: string | undefined; emailVerified?: boolean | undefined },
  now: number,
  actor: AuditEntry["actor"],
  requireVerifiedEmail = false,
): Promise<boolean> {
  if (!mayBindByEmail(user, requireVerifiedEmail)) return false;
  const email = normalizeEmail(user.email);
  if (email === null) return false;
  let candidates = await findUnboundCustomersByEmail(trx, scope, email);
  if (candidates.length === 1) {
    // About to bind: from here on, no other write of this scope's bindings runs beside this one
    // (a no-op on SQLite); read again what it may have changed. Most creations stop before this.
    await lockCustomersOf(trx, scope);
    candidates = await findUnboundCustomersByEmail(trx, scope, email);
  }
  if (candidates.length > 1) {
    // Imports and unbinds mark a shared email as they write it; this counts it again, should any
    // write ever have missed it, so the email stays ambiguous from here on whatever happens next.
    await markEmailAmbiguous(trx, scope, email, now);
    return false;
  }
  const customer = candidates[0];
  if (customer === undefined || customer.unbound_at !== null) return false;
  if ((await findCustomerBoundTo(trx, scope, user.externalUserId)) !== undefined) return false;
  const bound = await bindCustomer(trx, customer.id, { externalUserId: user.externalUserId, method: "email", now });
  if (bound) {
    await adjustUnresolvedCount(trx, scope, -1);
    await recordBinding(trx, scope, { ...customer, externalUserId: user.externalUserId, method: "email", actor }, now);
  }
  return bound;
}
