import type { BindingMethod, Environment, UnresolvedReason } from "@billingos/contracts";
import { type ExpressionBuilder, sql } from "kysely";
import type { Database } from "../db/database.js";
import { preparedInsert, preparedQuery } from "../db/prepared-query.js";
import type { DatabaseSchema } from "../db/schema.js";
import type { Scope } from "../shared/scope.js";
import type { ImportedCustomerRow, NewImportedCustomerRow } from "./imported-customers.table.js";

export async function findCustomerByStripeId(
  db: Database,
  scope: Scope,
  stripeCustomerId: string,
): Promise<ImportedCustomerRow | undefined> {
  return db
    .selectFrom("imported_customers")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("stripe_customer_id", "=", stripeCustomerId)
    .executeTakeFirst();
}

const selectBoundTo = preparedQuery((db: Database, organizationId: string, environment: Environment, externalUserId: string) =>
  db
    .selectFrom("imported_customers")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("environment", "=", environment)
    .where("external_user_id", "=", externalUserId),
);

export async function findCustomerBoundTo(
  db: Database,
  scope: Scope,
  externalUserId: string,
): Promise<ImportedCustomerRow | undefined> {
  return (await selectBoundTo(db, scope.organizationId, scope.environment, externalUserId)).rows[0];
}

/**
 * Two are enough to tell "exactly one" from "several". The limit is written into the SQL, not bound:
 * SQLite runs this statement ~10 µs slower with `limit ?` (measured on every token creation).
 */
const UNBOUND_BY_EMAIL_LIMIT = 2;

const selectUnboundByEmail = preparedQuery(
  (db: Database, organizationId: string, environment: Environment, emailNormalized: string) =>
    db
      .selectFrom("imported_customers")
      .select(["id", "stripe_customer_id"])
      .where("organization_id", "=", organizationId)
      .where("environment", "=", environment)
      .where("email_normalized", "=", emailNormalized)
      .where("external_user_id", "is", null)
      .limit(sql.lit(UNBOUND_BY_EMAIL_LIMIT)),
);

/** Up to two unbound customers whose normalized email is exactly `emailNormalized` (no LIKE). */
export async function findUnboundCustomersByEmail(
  db: Database,
  scope: Scope,
  emailNormalized: string,
): Promise<{ id: string; stripe_customer_id: string }[]> {
  return (await selectUnboundByEmail(db, scope.organizationId, scope.environment, emailNormalized)).rows;
}

/** Binds a customer only if it is still unbound; returns whether it did. A bound customer is never re-bound. */
export async function bindCustomer(
  db: Database,
  id: string,
  binding: { externalUserId: string; method: BindingMethod; now: number },
): Promise<boolean> {
  const result = await db
    .updateTable("imported_customers")
    .set({ external_user_id: binding.externalUserId, bound_by: binding.method, bound_at: binding.now, updated_at: binding.now })
    .where("id", "=", id)
    .where("external_user_id", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

const selectUnresolvedCount = preparedQuery((db: Database, organizationId: string, environment: Environment) =>
  db
    .selectFrom("customer_binding_counts")
    .select("unresolved_count")
    .where("organization_id", "=", organizationId)
    .where("environment", "=", environment),
);

/** The maintained number of unbound customers: one primary-key read, whatever their number. */
export async function readUnresolvedCount(db: Database, scope: Scope): Promise<number> {
  const row = (await selectUnresolvedCount(db, scope.organizationId, scope.environment)).rows[0];
  return Number(row?.unresolved_count ?? 0);
}

export async function adjustUnresolvedCount(db: Database, scope: Scope, delta: number): Promise<void> {
  if (delta === 0) return;
  await db
    .insertInto("customer_binding_counts")
    .values({ organization_id: scope.organizationId, environment: scope.environment, unresolved_count: delta })
    .onConflict((conflict) =>
      conflict
        .columns(["organization_id", "environment"])
        .doUpdateSet((eb) => ({ unresolved_count: eb("customer_binding_counts.unresolved_count", "+", delta) })),
    )
    .execute();
}

type CustomerExpressions = ExpressionBuilder<DatabaseSchema & { c: DatabaseSchema["imported_customers"] }, "c">;

/** True when another unbound customer of the same scope has the same normalized email. */
function sharesEmail(eb: CustomerExpressions) {
  return eb.exists(
    eb
      .selectFrom("imported_customers as o")
      .select("o.id")
      .whereRef("o.organization_id", "=", "c.organization_id")
      .whereRef("o.environment", "=", "c.environment")
      .whereRef("o.email_normalized", "=", "c.email_normalized")
      .whereRef("o.id", "!=", "c.id")
      .where("o.external_user_id", "is", null),
  );
}

export type UnresolvedCustomerRow = ImportedCustomerRow & { reason: UnresolvedReason };

function withReason(row: ImportedCustomerRow & { email_shared: unknown }): UnresolvedCustomerRow {
  const { email_shared: shared, ...customer } = row;
  const reason: UnresolvedReason =
    customer.email_normalized === null ? "no_email" : Number(shared) ? "email_shared" : "awaiting_first_session";
  return { ...customer, reason };
}

/** Unbound customers in import order, each with why it is still unbound. */
export async function listUnresolvedCustomers(
  db: Database,
  scope: Scope,
  query: { reason: UnresolvedReason | null; after: string | null; limit: number },
): Promise<UnresolvedCustomerRow[]> {
  let select = db
    .selectFrom("imported_customers as c")
    .selectAll("c")
    .select((eb) => sharesEmail(eb).as("email_shared"))
    .where("c.organization_id", "=", scope.organizationId)
    .where("c.environment", "=", scope.environment)
    // bound_at is null exactly while external_user_id is; this form seeks imported_customers_unbound.
    .where("c.bound_at", "is", null);
  if (query.reason === "no_email") select = select.where("c.email_normalized", "is", null);
  if (query.reason === "email_shared") select = select.where("c.email_normalized", "is not", null).where(sharesEmail);
  if (query.reason === "awaiting_first_session") {
    select = select.where("c.email_normalized", "is not", null).where((eb) => eb.not(sharesEmail(eb)));
  }
  if (query.after !== null) select = select.where("c.id", ">", query.after);
  const rows = await select.orderBy("c.id").limit(query.limit).execute();
  return rows.map(withReason);
}

// ---------------------------------------------------------------------------------------------
// The import's per-row statements. An import runs these once per row, up to 1,000 times a batch:
// on statements built and prepared once (prepared-query.ts) rather than by the query builder each
// time, which cost about as much again as the writes themselves.

const selectByStripeId = preparedQuery((db: Database, organizationId: string, environment: Environment, stripeCustomerId: string) =>
  db
    .selectFrom("imported_customers")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("environment", "=", environment)
    .where("stripe_customer_id", "=", stripeCustomerId),
);

/** findCustomerByStripeId on a prepared statement, for the import's loop. */
export async function findCustomerToImport(db: Database, scope: Scope, stripeCustomerId: string): Promise<ImportedCustomerRow | undefined> {
  return (await selectByStripeId(db, scope.organizationId, scope.environment, stripeCustomerId)).rows[0];
}

const IMPORTED_CUSTOMER_COLUMNS = [
  "id",
  "organization_id",
  "environment",
  "stripe_customer_id",
  "email",
  "email_normalized",
  "name",
  "metadata",
  "stripe_created_at",
  "imported_at",
  "updated_at",
  "external_user_id",
  "bound_at",
  "bound_by",
] as const satisfies readonly (keyof NewImportedCustomerRow)[];

const insertRow = preparedInsert<NewImportedCustomerRow & Record<string, unknown>>("imported_customers", IMPORTED_CUSTOMER_COLUMNS);

/** A new imported customer. */
export async function insertCustomerToImport(db: Database, row: NewImportedCustomerRow): Promise<void> {
  await insertRow(db, row as NewImportedCustomerRow & Record<string, unknown>);
}

const updateUnbound = preparedQuery(
  (
    db: Database,
    id: string,
    email: string | null,
    emailNormalized: string | null,
    name: string | null,
    metadata: string | null,
    stripeCreatedAt: number | null,
    updatedAt: number,
  ) =>
    db
      .updateTable("imported_customers")
      .set({ email, email_normalized: emailNormalized, name, metadata, stripe_created_at: stripeCreatedAt, updated_at: updatedAt })
      .where("id", "=", id)
      .where("external_user_id", "is", null),
);

/** New values for a customer still unbound; a bound customer is left as it is. */
export async function updateCustomerToImport(
  db: Database,
  id: string,
  changes: Pick<ImportedCustomerRow, "email" | "email_normalized" | "name" | "metadata" | "stripe_created_at" | "updated_at">,
): Promise<void> {
  await updateUnbound(db, id, changes.email, changes.email_normalized, changes.name, changes.metadata, changes.stripe_created_at, changes.updated_at);
}
