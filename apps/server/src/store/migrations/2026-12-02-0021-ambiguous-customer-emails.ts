import { type Kysely, sql } from "kysely";
import { isPostgres } from "./engine-of.js";

// Frozen. An email that two or more unbound customers of one organization and environment have
// shared is ambiguous for good: lazy binding never binds a customer with it, whatever happens to
// the others (before, binding one of two by hand let the other bind to the next user presenting
// that email). One row per ambiguous email; the primary key is the lookup lazy binding makes.
//
// Existing data is marked in two ways:
// - emails shared now by two or more unbound customers;
// - emails of an unbound customer that a customer bound BY HAND also has. That is what the defect
//   leaves behind (two shared an email, the merchant bound one by hand, the other now looks
//   unambiguous). A hand bind made for another reason is marked too: erring this way only asks
//   the merchant to bind by hand a customer that lazy binding would have bound.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("ambiguous_customer_emails")
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id"))
    .addColumn("environment", "text", (c) => c.notNull())
    .addColumn("email_normalized", "text", (c) => c.notNull())
    .addColumn("marked_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("ambiguous_customer_emails_pk", ["organization_id", "environment", "email_normalized"])
    .execute();

  const now = Date.now();
  // PostgreSQL types a bare parameter in a select list as text, which a bigint column refuses; it
  // is cast there only, so the SQL SQLite runs stays what shipped.
  const markedAt = isPostgres(db) ? sql`cast(${now} as bigint)` : sql`${now}`;
  await sql`
    insert into ambiguous_customer_emails (organization_id, environment, email_normalized, marked_at)
    select organization_id, environment, email_normalized, ${markedAt}
    from imported_customers
    where external_user_id is null and email_normalized is not null
    group by organization_id, environment, email_normalized
    having count(*) > 1
  `.execute(db);
  await sql`
    insert into ambiguous_customer_emails (organization_id, environment, email_normalized, marked_at)
    select distinct u.organization_id, u.environment, u.email_normalized, ${markedAt}
    from imported_customers u
    join imported_customers b
      on b.organization_id = u.organization_id
     and b.environment = u.environment
     and b.email_normalized = u.email_normalized
    where u.external_user_id is null and u.email_normalized is not null
      and b.external_user_id is not null and b.bound_by = 'manual'
    on conflict do nothing
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("ambiguous_customer_emails").execute();
}
