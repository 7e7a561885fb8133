import type { Kysely } from "kysely";

// Frozen. Imported Stripe customers and the maintained count of unbound ones.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("imported_customers")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("stripe_customer_id", "text", (c) => c.notNull())
    .addColumn("email", "text")
    .addColumn("email_normalized", "text")
    .addColumn("name", "text")
    .addColumn("metadata", "text")
    .addColumn("stripe_created_at", "bigint")
    .addColumn("imported_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addColumn("external_user_id", "text")
    .addColumn("bound_at", "bigint")
    .addColumn("bound_by", "text")
    .addUniqueConstraint("imported_customers_stripe_id", ["organization_id", "environment", "stripe_customer_id"])
    // NULLs are distinct, so many unbound customers coexist; a user id binds at most one customer.
    .addUniqueConstraint("imported_customers_external_user", ["organization_id", "environment", "external_user_id"])
    .execute();
  await db.schema
    .createIndex("imported_customers_email")
    .on("imported_customers")
    .columns(["organization_id", "environment", "email_normalized"])
    .execute();
  await db.schema
    .createIndex("imported_customers_unbound")
    .on("imported_customers")
    .columns(["organization_id", "environment", "external_user_id", "id"])
    .execute();

  await db.schema
    .createTable("customer_binding_counts")
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("unresolved_count", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("customer_binding_counts_pk", ["organization_id", "environment"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("customer_binding_counts").execute();
  await db.schema.dropTable("imported_customers").execute();
}
