import type { Kysely } from "kysely";

// Frozen. When a customer's binding was last undone by the merchant (customers.unbind, or a rebind
// that moved it). While such a customer is unbound it binds only by hand: neither lazy binding nor
// import metadata binds it again, or undoing a wrong binding would be undone at the next session.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("imported_customers").addColumn("unbound_at", "bigint").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("imported_customers").dropColumn("unbound_at").execute();
}
