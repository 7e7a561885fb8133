import type { AuditEvent } from "@billingos/contracts";
import type { AuditEventRow } from "./audit-events.table.js";

/** A stored audit event as the API (and the admin CLI) shows it. */
export function toAuditEvent(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    action: row.action,
    environment: row.environment,
    occurredAt: new Date(row.occurred_at),
    actor: { type: row.actor_type, id: row.actor_id },
    subjectId: row.subject_id,
    externalUserId: row.external_user_id,
    details: row.details === null ? null : (JSON.parse(row.details) as AuditEvent["details"]),
  };
}
