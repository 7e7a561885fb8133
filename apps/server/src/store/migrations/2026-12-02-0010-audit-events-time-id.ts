import type { Kysely } from "kysely";

// Frozen. The audit purge walks old events in (occurred_at, id) order, a window at a time, and
// resumes after the last one it looked at: events it must keep (their token, binding or key still
// stands) are stepped over once, not scanned again by every window. The index on occurred_at
// alone is a prefix of this one.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("audit_events_time").execute();
  await db.schema.createIndex("audit_events_time").on("audit_events").columns(["occurred_at", "id"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("audit_events_time").execute();
  await db.schema.createIndex("audit_events_time").on("audit_events").column("occurred_at").execute();
}
