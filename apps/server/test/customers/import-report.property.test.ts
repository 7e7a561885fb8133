import type { CustomerToImport, UnresolvedReason } from "@billingos/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createHarness } from "../harness.js";
import { checkProperty, PROPERTY_TIMEOUT_MS } from "../security/support.js";
import { expectCounterConsistent } from "./support.js";

// The import's report counts, by reason, the customers it leaves unbound. Whatever the batches hold
// (the same Stripe id twice, emails shared within a batch or with an earlier one, no email, user ids
// in metadata that pre-bind, some of them taken), the counts must be exactly what listUnresolved says
// of those customers afterwards, the dry run must report what the real import then does, and the
// maintained counter must stay exact.

const IDS = ["cus_a", "cus_b", "cus_c", "cus_d", "cus_e", "cus_f"];
const EMAILS = [null, "one@example.com", " One@Example.com", "two@example.com", "three@example.com"];
const USERS = [null, "user_1", "user_2"];

const customer = fc.record({
  stripeCustomerId: fc.constantFrom(...IDS),
  email: fc.constantFrom(...EMAILS),
  name: fc.constantFrom("Ada", "Grace"),
  user: fc.constantFrom(...USERS),
});

function toImport({
  stripeCustomerId,
  email,
  name,
  user,
}: {
  stripeCustomerId: string;
  email: string | null;
  name: string;
  user: string | null;
}): CustomerToImport {
  return { stripeCustomerId, email, name, ...(user === null ? {} : { metadata: { external_user_id: user } }) };
}

describe("customers.import: the report's reasons", () => {
  it(
    "property: the unresolved counts equal listUnresolved's reasons for the batch's customers; a dry run reports what the import does",
    async () => {
      await checkProperty(
        "import report reasons",
        fc.asyncProperty(
          fc.array(fc.array(customer, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 3 }),
          async (batches) => {
            const h = await createHarness();
            try {
              const acme = () => h.caller(h.testKey.secretKey);
              for (const batch of batches) {
                const customers = batch.map(toImport);
                const dry = await acme().customers.import({ customers, dryRun: true });
                const report = await acme().customers.import({ customers });
                expect({ ...dry, dryRun: false }).toEqual(report);

                const unbound = (await acme().customers.listUnresolved({ limit: 100 })).data;
                const inBatch = new Set(customers.map((c) => c.stripeCustomerId));
                const expected: Record<UnresolvedReason, number> = {
                  awaiting_first_session: 0,
                  no_email: 0,
                  email_shared: 0,
                  binding_undone: 0,
                };
                for (const row of unbound) if (inBatch.has(row.stripeCustomerId)) expected[row.reason]++;
                expect(report.unresolved).toEqual(expected);
              }
              await expectCounterConsistent(h);
            } finally {
              await h.close();
            }
          },
        ),
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
