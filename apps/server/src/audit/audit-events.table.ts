import type { AuditAction, AuditActorType, Environment } from "@billingos/contracts";
import type { Insertable, Selectable } from "kysely";

/** Append-only: rows are inserted, then only ever deleted by the retention purge. */
export interface AuditEventsTable {
  id: string;
  organization_id: string;
  environment: Environment;
  occurred_at: number;
  action: AuditAction;
  actor_type: AuditActorType;
  actor_id: string | null;
  subject_id: string | null;
  external_user_id: string | null;
  /** JSON object, or null. Never a token or a key. */
  details: string | null;
}

export type AuditEventRow = Selectable<AuditEventsTable>;
export type NewAuditEventRow = Insertable<AuditEventsTable>;
