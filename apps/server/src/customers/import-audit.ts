import type { AuditEntry } from "../audit/audit.repository.js";
import type { NewAuditEventRow } from "../audit/audit-events.table.js";
import { chunksOf } from "../store/chunks.js";
import type { Queryable } from "../store/queryable.js";
import { newId } from "../shared/ids.js";
import type { Scope } from "../shared/scope.js";
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
  const row = (entry: AuditEntry): NewAuditEventRow => ({
    id: newId("evt", now),
    organization_id: scope.organizationId,
    environment: scope.environment,
    occurred_at: now,
    action: entry.action,
    actor_type: entry.actor.type,
    actor_id: entry.actor.id,
    subject_id: entry.subjectId ?? null,
    external_user_id: entry.externalUserId ?? null,
    details: entry.details ? JSON.stringify(entry.details) : null,
  });
  const rows = [
    ...events.bindings.map((binding) =>
      row({
        action: "customer.bound",
        actor: events.actor,
        subjectId: binding.stripeCustomerId,
        externalUserId: binding.externalUserId,
        details: { method: "metadata" },
      }),
    ),
    row({ action: "customers.imported", actor: events.actor, details: events.report }),
  ];
  for (const chunk of chunksOf(rows)) await trx.kysely.insertInto("audit_events").values(chunk).execute();
}
