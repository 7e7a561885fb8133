import type { BindingMethod } from "@billingos/contracts";
import { type AuditEntry, recordAuditEvent } from "../audit/audit.repository.js";
import type { Database } from "../db/database.js";
import type { Scope } from "../shared/scope.js";

/** Audits a bind, whichever way it happened (metadata at import, email at first session, by hand). */
export async function recordBinding(
  trx: Database,
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
