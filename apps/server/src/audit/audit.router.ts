import { type AuditEvent, auditEventPage, listCustomerAuditEventsInput } from "@billingos/contracts";
import { z } from "zod";
import { router, secretKeyProcedure } from "../trpc/trpc.js";
import type { AuditEventRow } from "./audit-events.table.js";
import { listAuditEventsOfCustomer } from "./audit.repository.js";

function toAuditEvent(row: AuditEventRow): AuditEvent {
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

export const auditRouter = router({
  /** One customer's audit trail, newest first. */
  listForCustomer: secretKeyProcedure.input(listCustomerAuditEventsInput).query(async ({ ctx, input }) => {
    const limit = input.limit ?? 20;
    const rows = await listAuditEventsOfCustomer(ctx.db, ctx.apiKey, {
      externalUserId: input.externalUserId,
      before: input.cursor ?? null,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return z.encode(auditEventPage, {
      data: page.map(toAuditEvent),
      nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
    });
  }),
});
