import { normalizeEmail } from "@billingos/contracts";
import { type AuditEntry } from "../audit/audit.repository.js";
import type { Database } from "../db/database.js";
import { recordBinding } from "./customer-binding-audit.js";
import type { Scope } from "../shared/scope.js";
import {
  adjustUnresolvedCount,
  bindCustomer,
  findCustomerBoundTo,
  findUnboundCustomersByEmail,
} from "./imported-customers.repository.js";

/**
 * SPEC §5, at token creation, inside the caller's write transaction: the unbound customers whose
 * email is exactly the given one (normalizeEmail: trimmed, ASCII letters lower-cased) are the candidates. One candidate is
 * bound to the user; several are left alone (they stay `email_shared`); a user who is already
 * bound to a customer is not bound to a second one.
 */
export async function bindCustomerByEmail(
  trx: Database,
  scope: Scope,
  user: { externalUserId: string; email?: string | undefined },
  now: number,
  actor: AuditEntry["actor"],
): Promise<boolean> {
  const email = normalizeEmail(user.email);
  if (email === null) return false;
  const candidates = await findUnboundCustomersByEmail(trx, scope, email);
  if (candidates.length !== 1) return false;
  if ((await findCustomerBoundTo(trx, scope, user.externalUserId)) !== undefined) return false;
  const customer = candidates[0]!;
  const bound = await bindCustomer(trx, customer.id, { externalUserId: user.externalUserId, method: "email", now });
  if (bound) {
    await adjustUnresolvedCount(trx, scope, -1);
    await recordBinding(trx, scope, { ...customer, externalUserId: user.externalUserId, method: "email", actor }, now);
  }
  return bound;
}
