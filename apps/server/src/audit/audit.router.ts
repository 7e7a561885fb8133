import { auditEventPage, listCustomerAuditEventsInput } from "@billingos/contracts";
import { z } from "zod";
import { keysetPage } from "../shared/keyset-page.js";
import { router, secretKeyProcedure } from "../trpc/trpc.js";
import { toAuditEvent } from "./audit.mapper.js";
import { listAuditEventsOfCustomer } from "./audit.repository.js";

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
