import type { ImportedCustomer, unbindCustomerInput } from "@billingos/contracts";
import type { z } from "zod";
import { assertActorStillActive } from "../api-keys/api-key-still-active.js";
import type { AuditEntry } from "../audit/audit.repository.js";
import { DomainError } from "../shared/domain-error.js";
import type { Scope } from "../shared/scope.js";
import type { Queryable } from "../store/queryable.js";
import { recordUnbinding } from "./customer-binding-audit.js";
import type { CustomerDeps } from "./customer-deps.js";
import { lockCustomersOf } from "./customer-scope-lock.js";
import { toImportedCustomer } from "./customers.mapper.js";
import {
  adjustUnresolvedCount,
  findCustomerByStripeId,
  markSharedEmails,
  unbindCustomerRow,
} from "./imported-customers.repository.js";
import type { ImportedCustomerRow } from "./imported-customers.table.js";

export function customerNotFound(scope: Scope, stripeCustomerId: string): DomainError {
  return new DomainError(
    "NOT_FOUND",
    `No imported customer ${stripeCustomerId} in the ${scope.environment} environment`,
  );
}

/**
 * Clears a bound customer's binding and audits it (`customer.unbound`, naming the user it was bound
 * to), inside the caller's write transaction. The caller settles the counter: +1 for an unbind,
 * nothing for a rebind that binds it again in the same transaction.
 */
export async function undoBinding(
  trx: Queryable,
  scope: Scope,
  customer: ImportedCustomerRow & { external_user_id: string },
  change: { actor: AuditEntry["actor"]; reboundTo: string | null },
  now: number,
): Promise<void> {
  // The row was read in this write transaction, which holds the write lock: it cannot have changed.
  if (!(await unbindCustomerRow(trx, customer.id, customer.external_user_id, now))) {
    throw new Error(`${customer.stripe_customer_id} changed inside its own write transaction`);
  }
  await recordUnbinding(
    trx,
    scope,
    {
      stripe_customer_id: customer.stripe_customer_id,
      previous: { externalUserId: customer.external_user_id, boundBy: customer.bound_by, boundAt: customer.bound_at },
      reboundTo: change.reboundTo,
      actor: change.actor,
    },
    now,
  );
}

/**
 * Undoes a customer's binding (a wrong one: merchants can undo it). The customer is unbound again,
 * counted as unresolved, and binds only by hand from then on (reason `binding_undone`): lazy
 * binding or import metadata would otherwise bind it straight back to the same user. If its email
 * is now shared with another unbound customer, that email becomes ambiguous for good.
 *
 * Idempotent like a revoke: unbinding a customer that is not bound returns it unchanged (no event);
 * `previousExternalUserId` says whom it was bound to (null when it was not bound).
 * Moving a binding to another user is one call, `customers.bind` with `rebind: true`.
 *
 * Concurrency: this holds the scope's customer lock (customer-scope-lock.ts), as imports, binds by
 * hand and lazy binds do, so an unbind racing a lazy bind runs wholly before or wholly after it:
 * the counter stays exactly the number of unbound customers.
 */
export async function unbindCustomer(
  { store, clock }: CustomerDeps,
  scope: Scope,
  input: z.output<typeof unbindCustomerInput>,
  actor: AuditEntry["actor"],
): Promise<{ customer: ImportedCustomer; previousExternalUserId: string | null }> {
  return store.transaction(async (trx) => {
    await assertActorStillActive(trx, actor);
    await lockCustomersOf(trx, scope);
    const customer = await findCustomerByStripeId(trx, scope, input.stripeCustomerId);
    if (customer === undefined) throw customerNotFound(scope, input.stripeCustomerId);
    const externalUserId = customer.external_user_id;
    if (externalUserId === null) return { customer: toImportedCustomer(customer), previousExternalUserId: null };
    const now = clock.now();
    await undoBinding(trx, scope, { ...customer, external_user_id: externalUserId }, { actor, reboundTo: null }, now);
    await adjustUnresolvedCount(trx, scope, 1);
    await markSharedEmails(trx, [customer.id], now);
    const after = (await findCustomerByStripeId(trx, scope, input.stripeCustomerId))!;
    return { customer: toImportedCustomer(after), previousExternalUserId: externalUserId };
  });
}
