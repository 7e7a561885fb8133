import type { AuditAction, AuditActorType } from "@billingos/contracts";
import { newId } from "../shared/ids.js";
import type { Scope } from "../shared/scope.js";
import { chunksOf } from "../store/chunks.js";
import { preparedInsert, rowInsert } from "../store/prepared-query.js";
import type { Queryable } from "../store/queryable.js";
import type { RowInsert } from "../store/store.js";
import type { AuditEventRow, NewAuditEventRow } from "./audit-events.table.js";

export interface AuditEntry {
  action: AuditAction;
  actor: { type: AuditActorType; id: string | null };
  subjectId?: string | null;
  externalUserId?: string | null;
  details?: Record<string, unknown> | null;
}

const AUDIT_EVENT_COLUMNS = [
  "id",
  "organization_id",
  "environment",
  "occurred_at",
  "action",
  "actor_type",
  "actor_id",
  "subject_id",
  "external_user_id",
  "details",
] as const satisfies readonly (keyof NewAuditEventRow)[];

const insertEvent = preparedInsert<NewAuditEventRow & Record<string, unknown>>("audit_events", AUDIT_EVENT_COLUMNS);

/** The row of one event; ids are taken in call order, so events list in the order they were made. */
function auditRow(scope: Scope, entry: AuditEntry, now: number): NewAuditEventRow {
  return {
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
  };
}

/** Records one event; call it inside the transaction of the change it describes. */
export async function recordAuditEvent(db: Queryable, scope: Scope, entry: AuditEntry, now: number): Promise<void> {
  await insertEvent(db, auditRow(scope, entry, now) as NewAuditEventRow & Record<string, unknown>);
}

/** One event as a row for Store.insertIf: stored with the write it describes, in the same statement. */
export function auditEventInsert(scope: Scope, entry: AuditEntry, now: number): RowInsert {
  return rowInsert("audit_events", AUDIT_EVENT_COLUMNS, auditRow(scope, entry, now));
}

/** Records several events of one scope, in the order given, in one statement per chunk. */
export async function recordAuditEvents(
  db: Queryable,
  scope: Scope,
  entries: readonly AuditEntry[],
  now: number,
): Promise<void> {
  const rows = entries.map((entry) => auditRow(scope, entry, now));
  for (const chunk of chunksOf(rows)) await db.kysely.insertInto("audit_events").values(chunk).execute();
}

/** Records one event per session token about to be revoked in bulk (a revoke-all, a key revocation). */
export async function recordTokenRevocations(
  db: Queryable,
  tokens: {
    id: string;
    organization_id: string;
    environment: AuditEventRow["environment"];
    external_user_id: string;
  }[],
  entry: Pick<AuditEntry, "action" | "actor">,
  now: number,
): Promise<void> {
  for (const chunk of chunksOf(tokens)) {
    await db.kysely
      .insertInto("audit_events")
      .values(
        chunk.map((token) => ({
          id: newId("evt", now),
          organization_id: token.organization_id,
          environment: token.environment,
          occurred_at: now,
          action: entry.action,
          actor_type: entry.actor.type,
          actor_id: entry.actor.id,
          subject_id: token.id,
          external_user_id: token.external_user_id,
          details: null,
        })),
      )
      .execute();
  }
}

/** A customer's events, newest first. */
export async function listAuditEventsOfCustomer(
  db: Queryable,
  scope: Scope,
  query: { externalUserId: string; before: string | null; limit: number },
): Promise<AuditEventRow[]> {
  let select = db.kysely
    .selectFrom("audit_events")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("external_user_id", "=", query.externalUserId);
  if (query.before !== null) select = select.where("id", "<", query.before);
  return select.orderBy("id", "desc").limit(query.limit).execute();
}
