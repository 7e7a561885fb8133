import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../harness.js";
import { customerRow, expectCounterConsistent, stripeCustomer, unboundCountOf } from "./support.js";

// Issue item 6: "A shared email stays ambiguous. After the merchant binds one of two customers
// sharing an email by hand, the other auto-binds to the next different user who presents that
// email. Once ambiguous, it stays for manual binding."

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);
const reasons = async () => (await acme().customers.listUnresolved({})).data.map((c) => [c.stripeCustomerId, c.reason]);

describe("an email shared by two unbound customers stays ambiguous", () => {
  it("after one of two is bound by hand, the other never binds lazily: it stays email_shared until bound by hand", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("s1", { email: "s@example.com" }), stripeCustomer("s2", { email: "S@example.com " })],
    });
    await acme().customers.bind({ stripeCustomerId: "cus_s1", externalUserId: "user_owner" });

    for (const user of ["user_next", "user_other", "user_owner"]) {
      const created = await acme().sessionTokens.create({ externalUserId: user, email: "s@example.com" });
      expect(created.unresolvedCustomers).toBe(1);
    }
    expect((await customerRow(h.store, h.testKey, "cus_s2")).external_user_id).toBeNull();
    expect(await reasons()).toEqual([["cus_s2", "email_shared"]]);
    expect((await acme().customers.listUnresolved({ reason: "email_shared" })).data).toHaveLength(1);
    expect((await acme().customers.listUnresolved({ reason: "awaiting_first_session" })).data).toHaveLength(0);

    await acme().customers.bind({ stripeCustomerId: "cus_s2", externalUserId: "user_next" });
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("customers sharing an email across two imports are both email_shared, and stay so after one is bound", async () => {
    const first = await acme().customers.import({ customers: [stripeCustomer("a1", { email: "dup@example.com" })] });
    expect(first.unresolved).toMatchObject({ awaiting_first_session: 1, email_shared: 0 });
    const second = await acme().customers.import({ customers: [stripeCustomer("a2", { email: "dup@example.com" })] });
    // The report counts this batch's customers: a2 is email_shared (and a1 is now too).
    expect(second.unresolved).toEqual({ awaiting_first_session: 0, no_email: 0, email_shared: 1, binding_undone: 0 });
    expect(await reasons()).toEqual([
      ["cus_a1", "email_shared"],
      ["cus_a2", "email_shared"],
    ]);

    await acme().customers.bind({ stripeCustomerId: "cus_a2", externalUserId: "user_2" });
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "dup@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_a1")).external_user_id).toBeNull();
    expect(await reasons()).toEqual([["cus_a1", "email_shared"]]);
  });

  it("a customer imported later with an ambiguous email is email_shared and never binds lazily", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("s1", { email: "s@example.com" }), stripeCustomer("s2", { email: "s@example.com" })],
    });
    await acme().customers.bind({ stripeCustomerId: "cus_s1", externalUserId: "user_1" });
    await acme().customers.bind({ stripeCustomerId: "cus_s2", externalUserId: "user_2" });
    const report = await acme().customers.import({ customers: [stripeCustomer("s3", { email: "s@example.com" })] });
    expect(report.unresolved).toMatchObject({ email_shared: 1, awaiting_first_session: 0 });

    await acme().sessionTokens.create({ externalUserId: "user_3", email: "s@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_s3")).external_user_id).toBeNull();
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("moving a customer's email away by re-import leaves the old email ambiguous and makes the new one so if shared", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("a", { email: "x@example.com" }),
        stripeCustomer("b", { email: "x@example.com" }),
        stripeCustomer("c", { email: "y@example.com" }),
      ],
    });
    expect(await reasons()).toEqual([
      ["cus_a", "email_shared"],
      ["cus_b", "email_shared"],
      ["cus_c", "awaiting_first_session"],
    ]);
    // b now has c's email: x@ stays ambiguous (a alone with it), y@ becomes ambiguous.
    await acme().customers.import({ customers: [stripeCustomer("b", { email: "y@example.com" })] });
    expect(await reasons()).toEqual([
      ["cus_a", "email_shared"],
      ["cus_b", "email_shared"],
      ["cus_c", "email_shared"],
    ]);
    await acme().sessionTokens.create({ externalUserId: "user_x", email: "x@example.com" });
    await acme().sessionTokens.create({ externalUserId: "user_y", email: "y@example.com" });
    expect(await unboundCountOf(h.store, h.testKey)).toBe(3);
    expect(await expectCounterConsistent(h)).toBe(3);
  });

  it("a pre-bound customer and an unbound one with its email never were two unbound: the unbound one binds lazily", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("meta", { email: "m@example.com", metadata: { userId: "user_meta" } }),
        stripeCustomer("free", { email: "m@example.com" }),
      ],
    });
    expect(await reasons()).toEqual([["cus_free", "awaiting_first_session"]]);
    await acme().sessionTokens.create({ externalUserId: "user_free", email: "m@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_free")).external_user_id).toBe("user_free");
  });

  it("a dry run that would share an email marks nothing", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a", { email: "x@example.com" })] });
    const dry = await acme().customers.import({
      customers: [stripeCustomer("b", { email: "x@example.com" })],
      dryRun: true,
    });
    expect(dry.unresolved).toMatchObject({ email_shared: 1 });
    expect(await h.store.kysely.selectFrom("ambiguous_customer_emails").selectAll().execute()).toEqual([]);
    await acme().sessionTokens.create({ externalUserId: "user_a", email: "x@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_a")).external_user_id).toBe("user_a");
  });

  it("is per organization and environment: the same email shared in test leaves live and another organization alone", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("s1", { email: "s@example.com" }), stripeCustomer("s2", { email: "s@example.com" })],
    });
    for (const key of [h.liveKey, h.otherOrgKey]) {
      await h.caller(key.secretKey).customers.import({ customers: [stripeCustomer("s1", { email: "s@example.com" })] });
      await h.caller(key.secretKey).sessionTokens.create({ externalUserId: "user_1", email: "s@example.com" });
      expect((await customerRow(h.store, key, "cus_s1")).external_user_id).toBe("user_1");
    }
  });

  it("lazy binding that counts two unbound candidates marks the email, should a write have left it unmarked", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("s1", { email: "s@example.com" }), stripeCustomer("s2", { email: "s@example.com" })],
    });
    // Data written before marks existed (or by any path that missed one): no mark.
    await h.store.kysely.deleteFrom("ambiguous_customer_emails").execute();
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "s@example.com" });
    expect(await h.store.kysely.selectFrom("ambiguous_customer_emails").select("email_normalized").execute()).toEqual([
      { email_normalized: "s@example.com" },
    ]);
    await acme().customers.bind({ stripeCustomerId: "cus_s1", externalUserId: "user_1" });
    await acme().sessionTokens.create({ externalUserId: "user_2", email: "s@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_s2")).external_user_id).toBeNull();
  });
});

describe("migration 2026-12-02-0021 marks existing data", () => {
  it("marks emails shared by unbound customers, and the twin left unbound after a hand bind; not an email bound lazily", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("s1", { email: "shared@example.com" }),
        stripeCustomer("s2", { email: "shared@example.com" }),
        stripeCustomer("h1", { email: "hand@example.com" }),
        stripeCustomer("h2", { email: "hand@example.com" }),
        stripeCustomer("l1", { email: "lazy@example.com" }),
        stripeCustomer("alone", { email: "alone@example.com" }),
      ],
    });
    await acme().customers.bind({ stripeCustomerId: "cus_h1", externalUserId: "user_h1" });
    await acme().sessionTokens.create({ externalUserId: "user_l1", email: "lazy@example.com" });
    await acme().customers.import({ customers: [stripeCustomer("l2", { email: "lazy@example.com" })] });
    // The database as it was before this change: no table of ambiguous emails, migration not applied.
    await h.store.kysely.schema.dropTable("ambiguous_customer_emails").execute();
    await sql`delete from kysely_migration where name = '2026-12-02-0021-ambiguous-customer-emails'`.execute(
      h.store.kysely,
    );

    expect(await h.store.migrate()).toEqual(["2026-12-02-0021-ambiguous-customer-emails"]);
    const marked = await h.store.kysely
      .selectFrom("ambiguous_customer_emails")
      .select("email_normalized")
      .orderBy("email_normalized")
      .execute();
    expect(marked.map((row) => row.email_normalized)).toEqual(["hand@example.com", "shared@example.com"]);
    expect(await reasons()).toEqual([
      ["cus_s1", "email_shared"],
      ["cus_s2", "email_shared"],
      ["cus_h2", "email_shared"],
      ["cus_alone", "awaiting_first_session"],
      ["cus_l2", "awaiting_first_session"],
    ]);
    // The defect's aftermath is closed: h2 no longer binds to the next user presenting its email.
    await acme().sessionTokens.create({ externalUserId: "user_next", email: "hand@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_h2")).external_user_id).toBeNull();
  });
});
