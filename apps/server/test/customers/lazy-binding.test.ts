import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countSessionTokens, createHarness, type Harness, rejectionOf, START_TIME } from "../harness.js";
import { customerRow, expectCounterConsistent, stripeCustomer } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);

describe("lazy binding at token creation: email matching (SPEC §5)", () => {
  it("binds the one customer whose email matches, with boundBy email, at the server time", async () => {
    await acme().customers.import({ customers: [stripeCustomer("alice"), stripeCustomer("bob")] });
    h.clock.advance(5_000);
    const created = await acme().sessionTokens.create({ externalUserId: "user_alice", email: "alice@example.com" });

    const customer = await acme().customers.get({ stripeCustomerId: "cus_alice" });
    expect(customer).toMatchObject({
      externalUserId: "user_alice",
      boundBy: "email",
      boundAt: new Date(START_TIME + 5_000).toISOString(),
    });
    expect((await acme().customers.get({ stripeCustomerId: "cus_bob" })).externalUserId).toBeNull();
    expect(created.unresolvedCustomers).toBe(1);
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("ignores case of the token's email: USER@EXAMPLE.COM binds user@example.com", async () => {
    await acme().customers.import({ customers: [stripeCustomer("x", { email: "user@example.com" })] });
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "USER@Example.COM" });
    expect((await customerRow(h.store, h.testKey, "cus_x")).external_user_id).toBe("user_1");
  });

  it("ignores case and surrounding whitespace of the imported email", async () => {
    await acme().customers.import({ customers: [stripeCustomer("x", { email: "  User@Example.COM \t" })] });
    const row = await customerRow(h.store, h.testKey, "cus_x");
    expect(row.email).toBe("  User@Example.COM \t"); // kept as given…
    expect(row.email_normalized).toBe("user@example.com"); // …matched on its normalized form
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "user@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_x")).external_user_id).toBe("user_1");
  });

  it("ignores surrounding whitespace of the token's email: ' User@Example.COM ' binds user@example.com", async () => {
    await acme().customers.import({ customers: [stripeCustomer("x", { email: "user@example.com" })] });
    // SPEC §5 matches "after trimming and lower-casing": a padded address from a form must still bind.
    const created = await acme().sessionTokens.create({ externalUserId: "user_1", email: " User@Example.COM " });
    expect(created.unresolvedCustomers).toBeUndefined();
    expect((await customerRow(h.store, h.testKey, "cus_x")).external_user_id).toBe("user_1");
  });

  it("treats _ literally: customer axb@x.com is not bound by a_b@x.com", async () => {
    await acme().customers.import({ customers: [stripeCustomer("axb", { email: "axb@x.com" })] });
    const created = await acme().sessionTokens.create({ externalUserId: "user_1", email: "a_b@x.com" });
    expect((await customerRow(h.store, h.testKey, "cus_axb")).external_user_id).toBeNull();
    expect(created.unresolvedCustomers).toBe(1);
  });

  it("treats _ literally: customer a_b@x.com is not bound by axb@x.com, and is by a_b@x.com", async () => {
    await acme().customers.import({ customers: [stripeCustomer("ab", { email: "a_b@x.com" })] });
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "axb@x.com" });
    expect((await customerRow(h.store, h.testKey, "cus_ab")).external_user_id).toBeNull();

    await acme().sessionTokens.create({ externalUserId: "user_2", email: "a_b@x.com" });
    expect((await customerRow(h.store, h.testKey, "cus_ab")).external_user_id).toBe("user_2");
  });

  it("treats _ literally when deciding email_shared: a_b@x.com and axb@x.com are not one email", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("ab", { email: "a_b@x.com" }), stripeCustomer("axb", { email: "axb@x.com" })],
    });
    const page = await acme().customers.listUnresolved({});
    expect(page.data.map((c) => c.reason)).toEqual(["awaiting_first_session", "awaiting_first_session"]);
  });

  it("treats % literally: %@x.com matches no customer", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("a", { email: "a@x.com" }), stripeCustomer("b", { email: "b@x.com" })],
    });
    // Rejected: "%@x.com" is not an address the contracts accept, so it can reach no LIKE pattern.
    const rejection = await rejectionOf(acme().sessionTokens.create({ externalUserId: "user_1", email: "%@x.com" }));
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(rejection.data.fieldErrors).toHaveProperty("email");
    expect(await countSessionTokens(h.store)).toBe(0);
    expect((await customerRow(h.store, h.testKey, "cus_a")).external_user_id).toBeNull();
    expect((await customerRow(h.store, h.testKey, "cus_b")).external_user_id).toBeNull();
  });

  it("treats % literally on the stored side: a customer whose email is %@x.com is bound by nobody else", async () => {
    await acme().customers.import({ customers: [stripeCustomer("pct", { email: "%@x.com" })] });
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "a@x.com" });
    expect((await customerRow(h.store, h.testKey, "cus_pct")).external_user_id).toBeNull();
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("binds neither of two customers sharing one email; both are listed as email_shared", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("one", { email: "shared@example.com" }),
        stripeCustomer("two", { email: " Shared@Example.com" }),
      ],
    });
    const created = await acme().sessionTokens.create({ externalUserId: "user_1", email: "shared@example.com" });
    expect(created.unresolvedCustomers).toBe(2);
    expect((await customerRow(h.store, h.testKey, "cus_one")).external_user_id).toBeNull();
    expect((await customerRow(h.store, h.testKey, "cus_two")).external_user_id).toBeNull();

    const page = await acme().customers.listUnresolved({});
    expect(page.data.map((c) => [c.stripeCustomerId, c.reason])).toEqual([
      ["cus_one", "email_shared"],
      ["cus_two", "email_shared"],
    ]);
  });

  it("does not re-bind a bound customer for a later token of another user with the same email", async () => {
    await acme().customers.import({ customers: [stripeCustomer("x", { email: "user@example.com" })] });
    await acme().sessionTokens.create({ externalUserId: "user_first", email: "user@example.com" });
    const bound = await customerRow(h.store, h.testKey, "cus_x");
    h.clock.advance(60_000);

    const created = await acme().sessionTokens.create({ externalUserId: "user_second", email: "user@example.com" });
    expect(created.unresolvedCustomers).toBeUndefined();
    expect(await customerRow(h.store, h.testKey, "cus_x")).toEqual(bound);
    expect(bound).toMatchObject({ external_user_id: "user_first", bound_by: "email", bound_at: START_TIME });
  });

  it("does not bind a second customer to a user already bound by email", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("a", { email: "first@example.com" }),
        stripeCustomer("b", { email: "second@example.com" }),
      ],
    });
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "first@example.com" });
    // The same user later signs in with another address, which is the email of another unbound customer.
    const created = await acme().sessionTokens.create({ externalUserId: "user_1", email: "second@example.com" });

    expect((await customerRow(h.store, h.testKey, "cus_a")).external_user_id).toBe("user_1");
    expect((await customerRow(h.store, h.testKey, "cus_b")).external_user_id).toBeNull();
    expect(created.unresolvedCustomers).toBe(1);
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("does not bind a second customer to a user already bound via metadata", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("meta", { email: "meta@example.com", metadata: { userId: "user_1" } }),
        stripeCustomer("other", { email: "other@example.com" }),
      ],
    });
    expect((await customerRow(h.store, h.testKey, "cus_meta")).external_user_id).toBe("user_1");

    await acme().sessionTokens.create({ externalUserId: "user_1", email: "other@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_other")).external_user_id).toBeNull();
    expect(await acme().customers.get({ externalUserId: "user_1" })).toMatchObject({
      stripeCustomerId: "cus_meta",
      boundBy: "metadata",
    });
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("does not bind a second customer to a user bound by hand", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a"), stripeCustomer("b")] });
    await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_1" });
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "b@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_b")).external_user_id).toBeNull();
  });

  it("binds nothing when a token is created without email, or with an email no customer has", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    await acme().sessionTokens.create({ externalUserId: "user_1" });
    await acme().sessionTokens.create({ externalUserId: "user_2", email: "nobody@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_a")).external_user_id).toBeNull();
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("never matches a customer without email", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("none", { email: null }), stripeCustomer("blank", { email: "   " })],
    });
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "none@example.com" });
    const page = await acme().customers.listUnresolved({});
    expect(page.data.map((c) => [c.stripeCustomerId, c.reason, c.externalUserId])).toEqual([
      ["cus_none", "no_email", null],
      ["cus_blank", "no_email", null],
    ]);
  });
});

describe("pre-binding at import from metadata (SPEC §5)", () => {
  const keys = ["external_id", "external_user_id", "externalUserId", "user_id", "userId"] as const;

  for (const key of keys) {
    it(`binds a customer whose metadata has ${key}, with boundBy metadata`, async () => {
      h.clock.advance(1_234);
      const report = await acme().customers.import({
        customers: [stripeCustomer("m", { metadata: { [key]: `user_from_${key}`, plan: "pro" } })],
      });
      expect(report).toMatchObject({
        created: 1,
        preBound: 1,
        unresolved: { awaiting_first_session: 0, no_email: 0, email_shared: 0 },
      });
      expect(await acme().customers.get({ externalUserId: `user_from_${key}` })).toMatchObject({
        stripeCustomerId: "cus_m",
        externalUserId: `user_from_${key}`,
        boundBy: "metadata",
        boundAt: new Date(START_TIME + 1_234).toISOString(),
        metadata: { [key]: `user_from_${key}`, plan: "pro" },
      });
      expect(await expectCounterConsistent(h)).toBe(0);
    });
  }

  it("does not pre-bind from other metadata keys", async () => {
    const report = await acme().customers.import({
      customers: [stripeCustomer("m", { metadata: { uid: "user_1", customer_id: "user_1", ExternalId: "user_1" } })],
    });
    expect(report.preBound).toBe(0);
    expect((await customerRow(h.store, h.testKey, "cus_m")).external_user_id).toBeNull();
  });

  it("pre-binds a user id to one customer only, even within one batch", async () => {
    const report = await acme().customers.import({
      customers: [
        stripeCustomer("first", { metadata: { user_id: "user_1" } }),
        stripeCustomer("second", { metadata: { userId: "user_1" } }),
      ],
    });
    expect(report).toMatchObject({
      created: 2,
      preBound: 1,
      unresolved: { awaiting_first_session: 1, no_email: 0, email_shared: 0 },
    });
    expect((await customerRow(h.store, h.testKey, "cus_first")).external_user_id).toBe("user_1");
    expect((await customerRow(h.store, h.testKey, "cus_second")).external_user_id).toBeNull();
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("does not pre-bind to a user already bound by email in an earlier session", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    await acme().sessionTokens.create({ externalUserId: "user_1", email: "a@example.com" });
    const report = await acme().customers.import({
      customers: [stripeCustomer("b", { metadata: { external_id: "user_1" } })],
    });
    expect(report.preBound).toBe(0);
    expect((await customerRow(h.store, h.testKey, "cus_b")).external_user_id).toBeNull();
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("lazy binds are boundBy email and manual binds boundBy manual", async () => {
    await acme().customers.import({ customers: [stripeCustomer("lazy"), stripeCustomer("hand")] });
    await acme().sessionTokens.create({ externalUserId: "user_lazy", email: "lazy@example.com" });
    await acme().customers.bind({ stripeCustomerId: "cus_hand", externalUserId: "user_hand" });
    expect((await acme().customers.get({ stripeCustomerId: "cus_lazy" })).boundBy).toBe("email");
    expect((await acme().customers.get({ stripeCustomerId: "cus_hand" })).boundBy).toBe("manual");
  });
});
