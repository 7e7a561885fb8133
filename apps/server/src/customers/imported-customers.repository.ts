import type { BindingMethod, Environment, UnresolvedReason } from "@billingos/contracts";
import { type ExpressionBuilder, sql } from "kysely";
import type { Scope } from "../shared/scope.js";
import { chunksOf } from "../store/chunks.js";
import { preparedQuery } from "../store/prepared-query.js";
import type { Queryable } from "../store/queryable.js";
import type { DatabaseSchema } from "../store/schema.js";
import type { ImportedCustomerRow, NewImportedCustomerRow } from "./imported-customers.table.js";

const selectBoundTo = preparedQuery(
  (db: Queryable, organizationId: string, environment: Environment, externalUserId: string) =>
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
export async function markEmailAmbiguous(
  db: Queryable,
  scope: Scope,
  emailNormalized: string,
  now: number,
): Promise<void> {
  await db.kysely
    .insertInto("ambiguous_customer_emails")
    .values({
      organization_id: scope.organizationId,
      environment: scope.environment,
      email_normalized: emailNormalized,
      marked_at: now,
    })
    .onConflict((conflict) => conflict.doNothing())
    .execute();
}

/**
 * Marks ambiguous, for good, the email of each given customer that is unbound and shares it with
 * another unbound customer of its scope. Every write that can leave two unbound customers with one
 * email (an import, an unbind) calls it in its own write transaction, holding the scope's customer
 * lock (customer-scope-lock.ts), so the later of two concurrent imports sees the earlier's rows.
 *
 * Two steps, each one statement per chunk: the given customers' emails, then, per scope, those of
 * them that two unbound customers have. The second step names the emails as values, so it can only
 * seek the email index. A correlated "another customer with this email" subquery let PostgreSQL,
 * its statistics not yet caught up with an import's new rows, walk every unbound customer of the
 * scope for each given one: ~2.4 s a batch of 1,000 at 10,000 customers, growing with their number.
 */
export async function markSharedEmails(db: Queryable, customerIds: readonly string[], now: number): Promise<void> {
  const emailsByScope = new Map<string, { scope: Scope; emails: Set<string> }>();
  for (const ids of chunksOf(customerIds)) {
    const rows = await db.kysely
      .selectFrom("imported_customers")
      .select(["organization_id", "environment", "email_normalized"])
      .where("id", "in", ids)
      .where("external_user_id", "is", null)
      .where("email_normalized", "is not", null)
      .execute();
    for (const row of rows) {
      const key = `${row.organization_id}\u0000${row.environment}`;
      let entry = emailsByScope.get(key);
      if (entry === undefined) {
        entry = { scope: { organizationId: row.organization_id, environment: row.environment }, emails: new Set() };
        emailsByScope.set(key, entry);
      }
      entry.emails.add(row.email_normalized!);
    }
  }
  for (const { scope, emails } of emailsByScope.values()) await markEmailsShared(db, scope, [...emails], now);
}

/**
 * Marks ambiguous, for good, those of `emails` (normalized) that two or more unbound customers of the
 * scope have: an import, which knows the emails it left unbound, calls it directly.
 */
export async function markEmailsShared(
  db: Queryable,
  scope: Scope,
  emails: readonly string[],
  now: number,
): Promise<void> {
  for (const chunk of chunksOf(emails)) {
    await db.kysely
      .insertInto("ambiguous_customer_emails")
      .columns(["organization_id", "environment", "email_normalized", "marked_at"])
      .expression(
        db.kysely
          .selectFrom("imported_customers")
          .select([
            "organization_id",
            "environment",
            "email_normalized",
            sql<number>`cast(${now} as bigint)`.as("marked_at"),
          ])
          .where("organization_id", "=", scope.organizationId)
          .where("environment", "=", scope.environment)
          .where("email_normalized", "in", chunk)
          .where("external_user_id", "is", null)
          .groupBy(["organization_id", "environment", "email_normalized"])
          .having((eb) => eb(eb.fn.countAll(), ">", 1)),
      )
      .onConflict((conflict) => conflict.doNothing())
      .execute();
  }
}

/**
 * Undoes the binding of a customer still bound to `externalUserId`; returns whether it did. It
 * becomes unbound (bound_at null, as the unbound index expects) and remembers when (unbound_at).
 */
export async function unbindCustomerRow(
  db: Queryable,
  id: string,
  externalUserId: string,
  now: number,
): Promise<boolean> {
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
    .set({
      external_user_id: binding.externalUserId,
      bound_by: binding.method,
      bound_at: binding.now,
      updated_at: binding.now,
    })
    .where("id", "=", id)
    .where("external_user_id", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
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

/**
 * The customer's ambiguous-email mark, as a scalar subquery: a primary-key probe per customer on
 * either engine. As EXISTS, PostgreSQL may turn it into a (anti-)join, and did so badly while its
 * statistics lagged behind a large import (the marks of the scope walked for every customer: 27 s to
 * list 101 email_shared customers of 50,000); a scalar subquery stays a per-row probe.
 */
function ambiguousMarkOf(eb: CustomerExpressions) {
  return eb
    .selectFrom("ambiguous_customer_emails as a")
    .select(sql<number>`1`.as("marked"))
    .whereRef("a.organization_id", "=", "c.organization_id")
    .whereRef("a.environment", "=", "c.environment")
    .whereRef("a.email_normalized", "=", "c.email_normalized");
}

/** True when the customer's email is marked ambiguous in its scope (a primary-key probe). */
function hasAmbiguousEmail(eb: CustomerExpressions) {
  return eb(ambiguousMarkOf(eb), "is not", null);
}

/** True when the customer's email is not marked ambiguous in its scope (a primary-key probe). */
function hasUnambiguousEmail(eb: CustomerExpressions) {
  return eb(ambiguousMarkOf(eb), "is", null);
}

export type UnresolvedCustomerRow = ImportedCustomerRow & { reason: UnresolvedReason };

/** Why an unbound customer is: the reasons, in order of precedence; listing by reason filters with the same rules. */
function reasonOf(
  customer: Pick<ImportedCustomerRow, "email_normalized" | "unbound_at">,
  emailAmbiguous: unknown,
): UnresolvedReason {
  return customer.email_normalized === null
    ? "no_email"
    : customer.unbound_at !== null
      ? "binding_undone"
      : Number(emailAmbiguous)
        ? "email_shared"
        : "awaiting_first_session";
}

function withReason(row: ImportedCustomerRow & { email_ambiguous: unknown }): UnresolvedCustomerRow {
  const { email_ambiguous: ambiguous, ...customer } = row;
  return { ...customer, reason: reasonOf(customer, ambiguous) };
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
  if (query.reason === "binding_undone")
    select = select.where("c.email_normalized", "is not", null).where("c.unbound_at", "is not", null);
  if (query.reason === "email_shared") {
    select = select
      .where("c.email_normalized", "is not", null)
      .where("c.unbound_at", "is", null)
      .where(hasAmbiguousEmail);
  }
  if (query.reason === "awaiting_first_session") {
    select = select
      .where("c.email_normalized", "is not", null)
      .where("c.unbound_at", "is", null)
      .where(hasUnambiguousEmail);
  }
  if (query.after !== null) select = select.where("c.id", ">", query.after);
  const rows = await select.orderBy("c.id").limit(query.limit).execute();
  return rows.map(withReason);
}

/** The reasons of the given customers that are still unbound (for an import's report). */
export async function unresolvedReasonsOf(db: Queryable, ids: readonly string[]): Promise<UnresolvedReason[]> {
  const reasons: UnresolvedReason[] = [];
  for (const chunk of chunksOf(ids)) {
    const rows = await db.kysely
      .selectFrom("imported_customers as c")
      .select((eb) => ["c.email_normalized", "c.unbound_at", hasAmbiguousEmail(eb).as("email_ambiguous")])
      .where("c.id", "in", chunk)
      .where("c.external_user_id", "is", null)
      .execute();
    for (const row of rows) reasons.push(reasonOf(row, row.email_ambiguous));
  }
  return reasons;
}

const selectByStripeId = preparedQuery(
  (db: Queryable, organizationId: string, environment: Environment, stripeCustomerId: string) =>
    db.kysely
      .selectFrom("imported_customers")
      .selectAll()
      .where("organization_id", "=", organizationId)
      .where("environment", "=", environment)
      .where("stripe_customer_id", "=", stripeCustomerId),
);

/** A customer of the scope by its Stripe id, on a statement prepared once. */
export async function findCustomerByStripeId(
  db: Queryable,
  scope: Scope,
  stripeCustomerId: string,
): Promise<ImportedCustomerRow | undefined> {
  return (await selectByStripeId(db, scope.organizationId, scope.environment, stripeCustomerId)).rows[0];
}

// ---------------------------------------------------------------------------------------------
// An import's set-based statements: a batch of up to 1,000 rows is read in one statement per chunk
// (chunks.ts) and written in one, whatever the engine. Per-row statements cost a network round trip
// each on PostgreSQL (a 50,000-row import took 124 s); the decisions are taken in memory (import-plan.ts).

/** The scope's customers with the given Stripe ids (each given once). */
export async function findCustomersByStripeIds(
  db: Queryable,
  scope: Scope,
  stripeCustomerIds: readonly string[],
): Promise<ImportedCustomerRow[]> {
  const found: ImportedCustomerRow[] = [];
  for (const ids of chunksOf(stripeCustomerIds)) {
    const rows = await db.kysely
      .selectFrom("imported_customers")
      .selectAll()
      .where("organization_id", "=", scope.organizationId)
      .where("environment", "=", scope.environment)
      .where("stripe_customer_id", "in", ids)
      .execute();
    found.push(...rows);
  }
  return found;
}

/** Those of the given user ids that a customer of the scope is bound to. */
export async function findBoundUsers(
  db: Queryable,
  scope: Scope,
  externalUserIds: readonly string[],
): Promise<string[]> {
  const bound: string[] = [];
  for (const ids of chunksOf(externalUserIds)) {
    const rows = await db.kysely
      .selectFrom("imported_customers")
      .select("external_user_id")
      .where("organization_id", "=", scope.organizationId)
      .where("environment", "=", scope.environment)
      .where("external_user_id", "in", ids)
      .execute();
    for (const row of rows) bound.push(row.external_user_id!);
  }
  return bound;
}

/** A row as the import's insert takes it (unbound_at is left to its default, null). */
function insertedRow(row: ImportedCustomerRow): NewImportedCustomerRow {
  return {
    id: row.id,
    organization_id: row.organization_id,
    environment: row.environment,
    stripe_customer_id: row.stripe_customer_id,
    email: row.email,
    email_normalized: row.email_normalized,
    name: row.name,
    metadata: row.metadata,
    stripe_created_at: row.stripe_created_at,
    imported_at: row.imported_at,
    updated_at: row.updated_at,
    external_user_id: row.external_user_id,
    bound_at: row.bound_at,
    bound_by: row.bound_by,
  };
}

/**
 * Writes customers as an import leaves them, in one statement per chunk: new rows are inserted;
 * a row whose id is stored already takes the new email, name, metadata, Stripe creation time and,
 * with `binding`, binding, unless it is bound by then (a bound customer is never changed).
 * unbound_at, imported_at and the scope are never changed. Without `binding` the binding columns
 * are not set, so SQLite leaves the indexes on them alone (~30% of an update-only batch's cost).
 */
export async function writeImportedCustomers(
  db: Queryable,
  rows: readonly ImportedCustomerRow[],
  binding: boolean,
): Promise<void> {
  for (const chunk of chunksOf(rows)) {
    await db.kysely
      .insertInto("imported_customers")
      .values(chunk.map(insertedRow))
      .onConflict((conflict) =>
        conflict
          .column("id")
          .doUpdateSet((eb) => ({
            email: eb.ref("excluded.email"),
            email_normalized: eb.ref("excluded.email_normalized"),
            name: eb.ref("excluded.name"),
            metadata: eb.ref("excluded.metadata"),
            stripe_created_at: eb.ref("excluded.stripe_created_at"),
            updated_at: eb.ref("excluded.updated_at"),
            ...(binding
              ? {
                  external_user_id: eb.ref("excluded.external_user_id"),
                  bound_at: eb.ref("excluded.bound_at"),
                  bound_by: eb.ref("excluded.bound_by"),
                }
              : {}),
          }))
          .where("imported_customers.external_user_id", "is", null),
      )
      .execute();
  }
}
