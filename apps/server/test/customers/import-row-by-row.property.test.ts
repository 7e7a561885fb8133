import type { CustomerToImport } from "@billingos/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";
import { createHarness, type Harness } from "../harness.js";
import { checkProperty, FUZZ_LONG, FUZZ_RUNS, PROPERTY_TIMEOUT_MS } from "../security/support.js";
import { counterOf, type KeyScope } from "./support.js";

// An import decides a batch's rows in memory and writes them set-based. Whatever the batch (one
// Stripe id several times, one user id named by several rows, customers stored before, bound or with
// their binding undone), it must leave the customers, the counter and the binding events exactly as
// importing the batch's rows one at a time, in order, does; and its counts must be the sums of theirs.
// Two scopes of one database side by side: Acme imports the batch, Globex the same rows one by one.
// (Only the ambiguous-email marks may differ: one-row imports mark an email as soon as two unbound
// customers share it, a batch only if they still do once all its rows are in.)

const IDS = ["cus_a", "cus_b", "cus_c", "cus_d", "cus_e"];
const EMAILS = [null, "one@example.com", " One@Example.com", "two@example.com"];
const USERS = [null, "user_1", "user_2", "user_3"];

const row = fc.record({
  stripeCustomerId: fc.constantFrom(...IDS),
  email: fc.constantFrom(...EMAILS),
  name: fc.constantFrom("Ada", "Grace", null),
  user: fc.constantFrom(...USERS),
  created: fc.constantFrom(null, "2024-03-01T10:00:00.000Z"),
});
type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;

function toImport({ stripeCustomerId, email, name, user, created }: Row): CustomerToImport {
  return {
    stripeCustomerId,
    email,
    name,
    createdAt: created,
    ...(user === null ? {} : { metadata: { external_user_id: user } }),
  };
}

/** What an import decides of a scope's customers, without the ids it draws. */
async function customersOf(store: Store, scope: KeyScope) {
  const rows = await store.kysely
    .selectFrom("imported_customers")
    .select([
      "stripe_customer_id",
      "email",
      "email_normalized",
      "name",
      "metadata",
      "stripe_created_at",
      "imported_at",
      "updated_at",
    ])
    .select(["external_user_id", "bound_at", "bound_by", "unbound_at"])
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .orderBy("stripe_customer_id")
    .execute();
  return rows.map((customer) => ({
    ...customer,
    stripe_created_at: customer.stripe_created_at === null ? null : Number(customer.stripe_created_at),
    imported_at: Number(customer.imported_at),
    updated_at: Number(customer.updated_at),
    bound_at: customer.bound_at === null ? null : Number(customer.bound_at),
    unbound_at: customer.unbound_at === null ? null : Number(customer.unbound_at),
  }));
}

/** The scope's binding events, in the order recorded. */
async function bindingEventsOf(store: Store, scope: KeyScope) {
  return store.kysely
    .selectFrom("audit_events")
    .select(["subject_id", "external_user_id", "details"])
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("action", "in", ["customer.bound", "customer.unbound"])
    .orderBy("id")
    .execute();
}

async function compare(h: Harness) {
  expect(await customersOf(h.store, h.otherOrgKey)).toEqual(await customersOf(h.store, h.testKey));
  expect(await counterOf(h.store, h.otherOrgKey)).toBe(await counterOf(h.store, h.testKey));
  expect(await bindingEventsOf(h.store, h.otherOrgKey)).toEqual(await bindingEventsOf(h.store, h.testKey));
}

describe("customers.import: a batch does what its rows imported one by one do", () => {
  it(
    "property: same customers, counter, binding events and summed counts, from any stored state",
    async () => {
      await checkProperty(
        "batch equals row by row",
        fc.asyncProperty(
          fc.array(row, { maxLength: 6 }),
          fc.subarray(IDS),
          fc.array(row, { minLength: 1, maxLength: 8 }),
          async (before, toUnbind, batch) => {
            const h = await createHarness();
            try {
              const batched = h.caller(h.testKey.secretKey);
              const oneByOne = h.caller(h.otherOrgKey.secretKey);
              // The same stored state in both scopes: earlier imports, some bindings undone.
              if (before.length > 0) {
                for (const caller of [batched, oneByOne])
                  await caller.customers.import({ customers: before.map(toImport) });
              }
              for (const stripeCustomerId of toUnbind) {
                const stored = await batched.customers.get({ stripeCustomerId }).catch(() => null);
                if (stored?.externalUserId == null) continue;
                for (const caller of [batched, oneByOne]) await caller.customers.unbind({ stripeCustomerId });
              }
              h.clock.advance(1_000);

              const report = await batched.customers.import({ customers: batch.map(toImport) });
              const sums = { created: 0, updated: 0, unchanged: 0, preBound: 0 };
              for (const customer of batch) {
                const one = await oneByOne.customers.import({ customers: [toImport(customer)] });
                for (const key of Object.keys(sums) as (keyof typeof sums)[]) sums[key] += one[key];
              }
              expect({
                created: report.created,
                updated: report.updated,
                unchanged: report.unchanged,
                preBound: report.preBound,
              }).toEqual(sums);
              await compare(h);
            } finally {
              await h.close();
            }
          },
        ),
        { numRuns: FUZZ_LONG ? FUZZ_RUNS : 40 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
