import type { Kysely } from "kysely";

// Frozen. The append-only audit log.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("audit_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("occurred_at", "bigint", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("actor_type", "text", (c) => c.notNull())
    .addColumn("actor_id", "text")
    .addColumn("subject_id", "text")
    .addColumn("external_user_id", "text")
    .addColumn("details", "text")
    .execute();
  await db.schema
    .createIndex("audit_events_customer")
    .on("audit_events")
    .columns(["organization_id", "environment", "external_user_id", "id"])
    .execute();
  await db.schema.createIndex("audit_events_time").on("audit_events").column("occurred_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("audit_events").execute();
}
