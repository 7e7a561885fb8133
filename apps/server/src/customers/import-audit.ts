import { type AuditEntry, recordAuditEvents } from "../audit/audit.repository.js";
import type { Scope } from "../shared/scope.js";
import type { Queryable } from "../store/queryable.js";
import type { MetadataBinding } from "./import-plan.js";

/**
 * An import's audit events in one statement per chunk, rather than one per pre-bound customer:
 * a `customer.bound` event for each customer bound from its metadata, in batch order (the same
 * rows recordBinding writes), then the `customers.imported` event with the report. Their ids are
 * taken in that order, so they list in that order.
 */
export async function recordImportEvents(
  trx: Queryable,
  scope: Scope,
  events: { actor: AuditEntry["actor"]; bindings: readonly MetadataBinding[]; report: Record<string, unknown> },
  now: number,
): Promise<void> {
  const entries: AuditEntry[] = [
    ...events.bindings.map(
      (binding): AuditEntry => ({
        action: "customer.bound",
        actor: events.actor,
        subjectId: binding.stripeCustomerId,
        externalUserId: binding.externalUserId,
        details: { method: "metadata" },
      }),
    ),
    { action: "customers.imported", actor: events.actor, details: events.report },
  ];
  await recordAuditEvents(trx, scope, entries, now);
}
