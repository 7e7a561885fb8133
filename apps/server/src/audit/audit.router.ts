import { type AuditEvent, auditEventPage, listCustomerAuditEventsInput } from "@billingos/contracts";
import { z } from "zod";
import { keysetPage } from "../shared/keyset-page.js";
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
    const page = await keysetPage(
      input.limit,
      (fetchLimit) =>
        listAuditEventsOfCustomer(ctx.store, ctx.apiKey, {
          externalUserId: input.externalUserId,
          before: input.cursor ?? null,
          limit: fetchLimit,
        }),
      toAuditEvent,
    );
    return z.encode(auditEventPage, page);
  }),
});
