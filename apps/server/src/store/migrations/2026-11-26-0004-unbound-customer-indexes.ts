import type { Kysely } from "kysely";

// Frozen. Two indexes of 0002 let SQLite's planner scan every unbound customer:
// - lazy binding asks for unbound customers with one email: with external_user_id in the email
//   index, all four terms are seeks;
// - listing unresolved customers in id order: keyed on bound_at (null exactly while unbound), so
//   the unique (organization, environment, external_user_id) index, which looks like a one-row
//   match for "IS NULL", no longer wins and forces a sort of every unbound customer.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("imported_customers_email").execute();
  await db.schema
    .createIndex("imported_customers_email")
    .on("imported_customers")
    .columns(["organization_id", "environment", "email_normalized", "external_user_id"])
    .execute();
  await db.schema.dropIndex("imported_customers_unbound").execute();
  await db.schema
    .createIndex("imported_customers_unbound")
    .on("imported_customers")
    .columns(["organization_id", "environment", "bound_at", "id"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("imported_customers_unbound").execute();
  await db.schema
    .createIndex("imported_customers_unbound")
    .on("imported_customers")
    .columns(["organization_id", "environment", "external_user_id", "id"])
    .execute();
  await db.schema.dropIndex("imported_customers_email").execute();
  await db.schema
    .createIndex("imported_customers_email")
    .on("imported_customers")
    .columns(["organization_id", "environment", "email_normalized"])
    .execute();
}
