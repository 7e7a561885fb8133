import type { CustomerToImport, Environment } from "@billingos/contracts";
import { expect } from "vitest";
import type { Store } from "../../src/store/store.js";
import type { Harness } from "../harness.js";

// Helpers for the imported-customer tests. They only read the database or call the real procedures:
// nothing here patches or mocks storage.

/** A Stripe-shaped customer to import: `cus_<tag>` with `<tag>@example.com` unless overridden. */
export function stripeCustomer(tag: string, overrides: Partial<CustomerToImport> = {}): CustomerToImport {
  return { stripeCustomerId: `cus_${tag}`, email: `${tag}@example.com`, name: `Customer ${tag}`, ...overrides };
}

/** `n` customers `cus_<prefix>0…`, each with its own email. */
export function stripeCustomers(prefix: string, n: number): CustomerToImport[] {
  return Array.from({ length: n }, (_, i) => stripeCustomer(`${prefix}${i}`));
}

/** The scope of a key: the organization and environment its calls are confined to. */
export interface KeyScope {
  organizationId: string;
  environment: Environment;
}

/** The maintained counter (customer_binding_counts) for one organization and environment; 0 when absent. */
export async function counterOf(db: Store, scope: KeyScope): Promise<number> {
  const row = await db.kysely
    .selectFrom("customer_binding_counts")
    .select("unresolved_count")
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .executeTakeFirst();
  return Number(row?.unresolved_count ?? 0);
}

/** What the counter stands for, counted the slow way: unbound customers of one organization and environment. */
export async function unboundCountOf(db: Store, scope: KeyScope): Promise<number> {
  const row = await db.kysely
    .selectFrom("imported_customers")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("external_user_id", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The counter equals `count(*) where external_user_id is null` for every key of the harness; returns Acme test's. */
export async function expectCounterConsistent(h: Harness): Promise<number> {
  for (const key of [h.testKey, h.liveKey, h.otherOrgKey]) {
    const [counter, unbound] = [await counterOf(h.store, key), await unboundCountOf(h.store, key)];
    expect(counter, `counter of ${key.organizationName}/${key.environment}`).toBe(unbound);
  }
  return counterOf(h.store, h.testKey);
}

/** Every imported-customer row, in id order: for before/after comparisons. */
export async function allCustomerRows(db: Store) {
  return db.kysely.selectFrom("imported_customers").selectAll().orderBy("id").execute();
}

/** Every counter row, in key order. */
export async function allCounterRows(db: Store) {
  return db.kysely
    .selectFrom("customer_binding_counts")
    .selectAll()
    .orderBy("organization_id")
    .orderBy("environment")
    .execute();
}

/** One imported-customer row by Stripe id within a scope (throws if absent). */
export async function customerRow(db: Store, scope: KeyScope, stripeCustomerId: string) {
  return db.kysely
    .selectFrom("imported_customers")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("stripe_customer_id", "=", stripeCustomerId)
    .executeTakeFirstOrThrow();
}
