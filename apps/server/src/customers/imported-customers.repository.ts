import type { BindingMethod, Environment, UnresolvedReason } from "@billingos/contracts";
import { type ExpressionBuilder, sql } from "kysely";
import { chunksOf } from "../store/chunks.js";
import type { Queryable } from "../store/queryable.js";
import { preparedInsert, preparedQuery } from "../store/prepared-query.js";
import type { DatabaseSchema } from "../store/schema.js";
import type { Scope } from "../shared/scope.js";
import type { ImportedCustomerRow, NewImportedCustomerRow } from "./imported-customers.table.js";

const selectBoundTo = preparedQuery((db: Queryable, organizationId: string, environment: Environment, externalUserId: string) =>
  db.kysely
    .selectFrom("imported_customers")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("environment", "=", environment)
    .where("external_user_id", "=", externalUserId),
);

export async function findCustomerBoundTo(
  db: Queryable,
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
  (db: Queryable, organizationId: string, environment: Environment, emailNormalized: string) =>
    db.kysely
      .selectFrom("imported_customers")
      .select(["id", "stripe_customer_id", "unbound_at"])
      .where("organization_id", "=", organizationId)
      .where("environment", "=", environment)
      .where("email_normalized", "=", emailNormalized)
      .where("external_user_id", "is", null)
      // An ambiguous email has no candidates at all: one primary-key probe in the same statement.
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("ambiguous_customer_emails as a")
              .select("a.email_normalized")
              .where("a.organization_id", "=", organizationId)
              .where("a.environment", "=", environment)
              .where("a.email_normalized", "=", emailNormalized),
          ),
        ),
      )
      .limit(sql.lit(UNBOUND_BY_EMAIL_LIMIT)),
);

/**
 * Up to two unbound customers whose normalized email is exactly `emailNormalized` (no LIKE), none
 * if that email is marked ambiguous.
 */
export async function findUnboundCustomersByEmail(
  db: Queryable,
  scope: Scope,
  emailNormalized: string,
): Promise<{ id: string; stripe_customer_id: string; unbound_at: number | null }[]> {
  return (await selectUnboundByEmail(db, scope.organizationId, scope.environment, emailNormalized)).rows;
}

/** Marks one email of a scope ambiguous, for good (a no-op if it already is). */
export async function markEmailAmbiguous(db: Queryable, scope: Scope, emailNormalized: string, now: number): Promise<void> {
  await db.kysely
    .insertInto("ambiguous_customer_emails")
    .values({ organization_id: scope.organizationId, environment: scope.environment, email_normalized: emailNormalized, marked_at: now })
    .onConflict((conflict) => conflict.doNothing())
    .execute();
}

/**
 * Marks ambiguous, for good, the email of each given customer that is unbound and shares it with
 * another unbound customer of its scope. Every write that can leave two unbound customers with one
 * email (an import, an unbind) calls it in its own write transaction; those transactions are
 * serialized (BEGIN IMMEDIATE), so the later of two concurrent imports sees the earlier's rows.
 */
export async function markSharedEmails(db: Queryable, customerIds: readonly string[], now: number): Promise<void> {
  for (const ids of chunksOf(customerIds)) {
    await db.kysely
      .insertInto("ambiguous_customer_emails")
      .columns(["organization_id", "environment", "email_normalized", "marked_at"])
      .expression(
        db.kysely
          .selectFrom("imported_customers as c")
          .select(["c.organization_id", "c.environment", "c.email_normalized", sql<number>`cast(${now} as bigint)`.as("marked_at")])
          .distinct()
          .where("c.id", "in", ids)
          .where("c.external_user_id", "is", null)
          .where("c.email_normalized", "is not", null)
          .where(sharesEmail),
      )
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }
}

/**
 * Undoes the binding of a customer still bound to `externalUserId`; returns whether it did. It
 * becomes unbound (bound_at null, as the unbound index expects) and remembers when (unbound_at).
 */
export async function unbindCustomerRow(db: Queryable, id: string, externalUserId: string, now: number): Promise<boolean> {
  const result = await db.kysely
    .updateTable("imported_customers")
    .set({ external_user_id: null, bound_by: null, bound_at: null, unbound_at: now, updated_at: now })
    .where("id", "=", id)
    .where("external_user_id", "=", externalUserId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Binds a customer only if it is still unbound; returns whether it did. A bound customer is never re-bound. */
export async function bindCustomer(
  db: Queryable,
  id: string,
  binding: { externalUserId: string; method: BindingMethod; now: number },
): Promise<boolean> {
  const result = await db.kysely
    .updateTable("imported_customers")
    .set({ external_user_id: binding.externalUserId, bound_by: binding.method, bound_at: binding.now, updated_at: binding.now })
    .where("id", "=", id)
    .where("external_user_id", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

const selectUnresolvedCount = preparedQuery((db: Queryable, organizationId: string, environment: Environment) =>
  db.kysely
    .selectFrom("customer_binding_counts")
    .select("unresolved_count")
    .where("organization_id", "=", organizationId)
    .where("environment", "=", environment),
);

/** The maintained number of unbound customers: one primary-key read, whatever their number. */
export async function readUnresolvedCount(db: Queryable, scope: Scope): Promise<number> {
  const row = (await selectUnresolvedCount(db, scope.organizationId, scope.environment)).rows[0];
  return Number(row?.unresolved_count ?? 0);
}

export async function adjustUnresolvedCount(db: Queryable, scope: Scope, delta: number): Promise<void> {
  if (delta === 0) return;
  await db.kysely
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

/** True when the customer's email is marked ambiguous in its scope (a primary-key probe). */
function hasAmbiguousEmail(eb: CustomerExpressions) {
  return eb.exists(
    eb
      .selectFrom("ambiguous_customer_emails as a")
      .select("a.email_normalized")
      .whereRef("a.organization_id", "=", "c.organization_id")
      .whereRef("a.environment", "=", "c.environment")
      .whereRef("a.email_normalized", "=", "c.email_normalized"),
  );
}

export type UnresolvedCustomerRow = ImportedCustomerRow & { reason: UnresolvedReason };

/** The reasons, in order of precedence; listing by reason filters with the same rules. */
function withReason(row: ImportedCustomerRow & { email_ambiguous: unknown }): UnresolvedCustomerRow {
  const { email_ambiguous: ambiguous, ...customer } = row;
  const reason: UnresolvedReason =
    customer.email_normalized === null
      ? "no_email"
      : customer.unbound_at !== null
        ? "binding_undone"
        : Number(ambiguous)
          ? "email_shared"
          : "awaiting_first_session";
  return { ...customer, reason };
}

/** Unbound customers in import order, each with why it is still unbound. */
export async function listUnresolvedCustomers(
  db: Queryable,
  scope: Scope,
  query: { reason: UnresolvedReason | null; after: string | null; limit: number },
): Promise<UnresolvedCustomerRow[]> {
  let select = db.kysely
    .selectFrom("imported_customers as c")
    .selectAll("c")
    .select((eb) => hasAmbiguousEmail(eb).as("email_ambiguous"))
    .where("c.organization_id", "=", scope.organizationId)
    .where("c.environment", "=", scope.environment)
    // bound_at is null exactly while external_user_id is; this form seeks imported_customers_unbound.
    .where("c.bound_at", "is", null);
  if (query.reason === "no_email") select = select.where("c.email_normalized", "is", null);
  if (query.reason === "binding_undone") select = select.where("c.email_normalized", "is not", null).where("c.unbound_at", "is not", null);
  if (query.reason === "email_shared") {
    select = select.where("c.email_normalized", "is not", null).where("c.unbound_at", "is", null).where(hasAmbiguousEmail);
  }
  if (query.reason === "awaiting_first_session") {
    select = select
      .where("c.email_normalized", "is not", null)
      .where("c.unbound_at", "is", null)
      .where((eb) => eb.not(hasAmbiguousEmail(eb)));
  }
  if (query.after !== null) select = select.where("c.id", ">", query.after);
  const rows = await select.orderBy("c.id").limit(query.limit).execute();
  return rows.map(withReason);
}

/** The reasons of the given customers that are still unbound (for an import's report). */
export async function unresolvedReasonsOf(db: Queryable, ids: string[]): Promise<UnresolvedReason[]> {
  if (ids.length === 0) return [];
  const rows = await db.kysely
    .selectFrom("imported_customers as c")
    .selectAll("c")
    .select((eb) => hasAmbiguousEmail(eb).as("email_ambiguous"))
    .where("c.id", "in", ids)
    .where("c.external_user_id", "is", null)
    .execute();
  return rows.map((row) => withReason(row).reason);
}

// ---------------------------------------------------------------------------------------------
// The import's per-row statements. An import runs these once per row, up to 1,000 times a batch:
// on statements built and prepared once (prepared-query.ts) rather than by the query builder each
// time, which cost about as much again as the writes themselves.

const selectByStripeId = preparedQuery((db: Queryable, organizationId: string, environment: Environment, stripeCustomerId: string) =>
  db.kysely
    .selectFrom("imported_customers")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("environment", "=", environment)
    .where("stripe_customer_id", "=", stripeCustomerId),
);

/** A customer of the scope by its Stripe id, on a statement prepared once (an import runs it per row). */
export async function findCustomerByStripeId(db: Queryable, scope: Scope, stripeCustomerId: string): Promise<ImportedCustomerRow | undefined> {
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
export async function insertCustomerToImport(db: Queryable, row: NewImportedCustomerRow): Promise<void> {
  await insertRow(db, row as NewImportedCustomerRow & Record<string, unknown>);
}

const updateUnbound = preparedQuery(
  (
    db: Queryable,
    id: string,
    email: string | null,
    emailNormalized: string | null,
    name: string | null,
    metadata: string | null,
    stripeCreatedAt: number | null,
    updatedAt: number,
  ) =>
    db.kysely
      .updateTable("imported_customers")
      .set({ email, email_normalized: emailNormalized, name, metadata, stripe_created_at: stripeCreatedAt, updated_at: updatedAt })
      .where("id", "=", id)
      .where("external_user_id", "is", null),
);

/** New values for a customer still unbound; a bound customer is left as it is. */
export async function updateCustomerToImport(
  db: Queryable,
  id: string,
  changes: Pick<ImportedCustomerRow, "email" | "email_normalized" | "name" | "metadata" | "stripe_created_at" | "updated_at">,
): Promise<void> {
  await updateUnbound(db, id, changes.email, changes.email_normalized, changes.name, changes.metadata, changes.stripe_created_at, changes.updated_at);
}
