import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../harness.js";
import { customerRow, expectCounterConsistent, stripeCustomer } from "./support.js";

// Issue item 7: an imported "\u212Aate@x.com" (KELVIN SIGN) must not bind the user kate@x.com.

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);

describe("lazy binding matches emails with ASCII-only case folding", () => {
  it("an imported \\u212Aate@x.com (KELVIN SIGN) is not bound by a token for kate@x.com", async () => {
    await acme().customers.import({ customers: [stripeCustomer("kelvin", { email: "\u212Aate@x.com" })] });
    const created = await acme().sessionTokens.create({ externalUserId: "user_kate", email: "kate@x.com" });

    const row = await customerRow(h.store, h.testKey, "cus_kelvin");
    expect(row.external_user_id).toBeNull();
    expect(row.email_normalized).toBe("\u212Aate@x.com");
    expect(created.unresolvedCustomers).toBe(1);
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("an imported \\u212AATE@X.COM and an imported kate@x.com are two emails, not one shared email", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("kelvin", { email: "\u212AATE@X.COM" }),
        stripeCustomer("kate", { email: "Kate@x.com" }),
      ],
    });
    const page = await acme().customers.listUnresolved({});
    expect(page.data.map((c) => [c.stripeCustomerId, c.reason])).toEqual([
      ["cus_kelvin", "awaiting_first_session"],
      ["cus_kate", "awaiting_first_session"],
    ]);
    await acme().sessionTokens.create({ externalUserId: "user_kate", email: "kate@x.com" });
    expect((await customerRow(h.store, h.testKey, "cus_kate")).external_user_id).toBe("user_kate");
    expect((await customerRow(h.store, h.testKey, "cus_kelvin")).external_user_id).toBeNull();
  });

  it("ASCII case is still ignored: an imported KATE@X.com is bound by kate@x.com", async () => {
    await acme().customers.import({ customers: [stripeCustomer("kate", { email: "KATE@X.com" })] });
    await acme().sessionTokens.create({ externalUserId: "user_kate", email: "kate@x.com" });
    expect((await customerRow(h.store, h.testKey, "cus_kate")).external_user_id).toBe("user_kate");
  });
});

describe("migration 2026-12-02-0020 recomputes stored normalized emails", () => {
  it("a customer stored with the Unicode-folded form is no longer bound by the ASCII address after the upgrade", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("kelvin", { email: "\u212Aate@x.com" }),
        stripeCustomer("plain", { email: " Plain@X.com " }),
      ],
    });
    // Recreate a database written before the fix: the value `trim().toLowerCase()` gave, and the
    // migration not yet applied.
    await h.store.kysely
      .updateTable("imported_customers")
      .set({ email_normalized: "\u212Aate@x.com".trim().toLowerCase() })
      .where("stripe_customer_id", "=", "cus_kelvin")
      .execute();
    expect((await customerRow(h.store, h.testKey, "cus_kelvin")).email_normalized).toBe("kate@x.com");
    await sql`delete from kysely_migration where name = '2026-12-02-0020-ascii-email-normalization'`.execute(
      h.store.kysely,
    );

    expect(await h.store.migrate()).toEqual(["2026-12-02-0020-ascii-email-normalization"]);
    expect((await customerRow(h.store, h.testKey, "cus_kelvin")).email_normalized).toBe("\u212Aate@x.com");
    expect((await customerRow(h.store, h.testKey, "cus_plain")).email_normalized).toBe("plain@x.com");

    await acme().sessionTokens.create({ externalUserId: "user_kate", email: "kate@x.com" });
    expect((await customerRow(h.store, h.testKey, "cus_kelvin")).external_user_id).toBeNull();
  });

  it("pages through more customers than one page holds", async () => {
    const customers = Array.from({ length: 1_005 }, (_, i) => stripeCustomer(`k${i}`, { email: `\u212A${i}@x.com` }));
    for (let from = 0; from < customers.length; from += 1_000) {
      await acme().customers.import({ customers: customers.slice(from, from + 1_000) });
    }
    await h.store.kysely
      .updateTable("imported_customers")
      .set({ email_normalized: sql<string>`lower(replace(email, '\u212A', 'k'))` })
      .execute();
    await sql`delete from kysely_migration where name = '2026-12-02-0020-ascii-email-normalization'`.execute(
      h.store.kysely,
    );
    await h.store.migrate();
    const stale = await h.store.kysely
      .selectFrom("imported_customers")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("email_normalized", "not like", "\u212A%")
      .executeTakeFirstOrThrow();
    expect(Number(stale.n)).toBe(0);
  });
});
