import { z } from "zod";
import { environment } from "./environment.js";
import { externalId, pageLimit, prefixedId } from "./fields.js";
import { inputObject } from "./input-object.js";
import { storedJsonObject } from "./json-object.js";
import { timestamp } from "./timestamp.js";

/** The append-only audit log: who did what to which token, key or customer, and when. */

export const auditAction = z.enum([
  "session_token.created",
  "session_token.revoked",
  "session_token.signed_out",
  "session_token.revoked_for_customer",
  "session_token.revoked_by_key_revocation",
  "api_key.created",
  "api_key.revoked",
  "customer.bound",
  "customer.unbound",
  "customers.imported",
]);
export type AuditAction = z.infer<typeof auditAction>;

/** Who acted: a secret key (its id), a session token's holder (the token id), or an operator at the CLI. */
export const auditActorType = z.enum(["api_key", "session_token", "operator"]);
export type AuditActorType = z.infer<typeof auditActorType>;

export const auditEventId = prefixedId("evt", "cursor");

export const auditEvent = z.strictObject({
  id: auditEventId,
  action: auditAction,
  environment,
  occurredAt: timestamp,
  actor: z.strictObject({ type: auditActorType, id: z.string().nullable() }),
  /** The token, key or Stripe customer acted on. */
  subjectId: z.string().nullable(),
  externalUserId: z.string().nullable(),
  details: storedJsonObject("What else the event recorded (counts, methods, expiry).").nullable(),
});
export type AuditEvent = z.output<typeof auditEvent>;

export const listCustomerAuditEventsInput = inputObject({
  externalUserId: externalId("externalUserId"),
  limit: pageLimit.optional(),
  cursor: auditEventId.optional(),
});
export type ListCustomerAuditEventsInput = z.input<typeof listCustomerAuditEventsInput>;

export const auditEventPage = z.strictObject({
  data: z.array(auditEvent),
  nextCursor: auditEventId.nullable(),
});
export type AuditEventPage = z.output<typeof auditEventPage>;
