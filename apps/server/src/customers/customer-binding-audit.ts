import type { BindingMethod } from "@billingos/contracts";
import { type AuditEntry, recordAuditEvent } from "../audit/audit.repository.js";
import type { Scope } from "../shared/scope.js";
import type { Queryable } from "../store/queryable.js";

/** Audits a bind, whichever way it happened (metadata at import, email at first session, by hand, a rebind). */
export async function recordBinding(
  trx: Queryable,
  scope: Scope,
  binding: { stripe_customer_id: string; externalUserId: string; method: BindingMethod; actor: AuditEntry["actor"] },
  now: number,
): Promise<void> {
  await recordAuditEvent(
    trx,
    scope,
    {
      action: "customer.bound",
      actor: binding.actor,
      subjectId: binding.stripe_customer_id,
      externalUserId: binding.externalUserId,
      details: { method: binding.method },
    },
    now,
  );
}

/** Audits an undone binding: the user it was bound to, how and when, and the user it moved to if any. */
export async function recordUnbinding(
  trx: Queryable,
  scope: Scope,
  unbinding: {
    stripe_customer_id: string;
    previous: { externalUserId: string; boundBy: BindingMethod | null; boundAt: number | null };
    reboundTo: string | null;
    actor: AuditEntry["actor"];
  },
  now: number,
): Promise<void> {
  const { previous } = unbinding;
  await recordAuditEvent(
    trx,
    scope,
    {
      action: "customer.unbound",
      actor: unbinding.actor,
      subjectId: unbinding.stripe_customer_id,
      externalUserId: previous.externalUserId,
      details: {
        boundBy: previous.boundBy,
        boundAt: previous.boundAt === null ? null : new Date(previous.boundAt).toISOString(),
        reboundTo: unbinding.reboundTo,
      },
    },
    now,
  );
}
