import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, rejectionOf } from "../harness.js";
import { counterOf, customerRow, expectCounterConsistent, stripeCustomer } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("test and live customers never meet (SPEC §3, §5)", () => {
  it("a test-key token with a live customer's email binds nothing; the test key cannot see it", async () => {
    const live = h.caller(h.liveKey.secretKey);
    const test = h.caller(h.testKey.secretKey);
    await live.customers.import({ customers: [stripeCustomer("x", { email: "user@example.com" })] });

    const created = await test.sessionTokens.create({ externalUserId: "user_1", email: "user@example.com" });
    expect(created.unresolvedCustomers).toBeUndefined();
    expect((await customerRow(h.store, h.liveKey, "cus_x")).external_user_id).toBeNull();

    // Rejected: the customer lives in live; a test key looks only at test customers.
    const byStripeId = await rejectionOf(test.customers.get({ stripeCustomerId: "cus_x" }));
    expect(byStripeId.error.code).toBe("NOT_FOUND");
    // Rejected: a test key cannot bind a live customer, it does not exist in test.
    const bind = await rejectionOf(test.customers.bind({ stripeCustomerId: "cus_x", externalUserId: "user_1" }));
    expect(bind.error.code).toBe("NOT_FOUND");
    expect((await test.customers.listUnresolved({})).data).toEqual([]);
    expect(await counterOf(h.store, h.testKey)).toBe(0);
    expect(await counterOf(h.store, h.liveKey)).toBe(1);
  });

  it("a live binding is invisible to the test key's get by externalUserId", async () => {
    const live = h.caller(h.liveKey.secretKey);
    await live.customers.import({ customers: [stripeCustomer("x")] });
    await live.sessionTokens.create({ externalUserId: "user_1", email: "x@example.com" });
    expect((await live.customers.get({ externalUserId: "user_1" })).stripeCustomerId).toBe("cus_x");

    // Rejected: user_1 is bound in live only.
    const rejection = await rejectionOf(h.caller(h.testKey.secretKey).customers.get({ externalUserId: "user_1" }));
    expect(rejection.error.code).toBe("NOT_FOUND");
  });

  it("one Stripe id imported in test and live is two customers, each bound on its own", async () => {
    const live = h.caller(h.liveKey.secretKey);
    const test = h.caller(h.testKey.secretKey);
    await live.customers.import({ customers: [stripeCustomer("x", { email: "same@example.com" })] });
    const testReport = await test.customers.import({ customers: [stripeCustomer("x", { email: "same@example.com" })] });
    expect(testReport.created).toBe(1);

    // Two customers, one per environment, do not make the email shared.
    expect((await test.customers.listUnresolved({})).data.map((c) => c.reason)).toEqual(["awaiting_first_session"]);
    await test.sessionTokens.create({ externalUserId: "user_test", email: "same@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_x")).external_user_id).toBe("user_test");
    expect((await customerRow(h.store, h.liveKey, "cus_x")).external_user_id).toBeNull();

    const liveCreated = await live.sessionTokens.create({ externalUserId: "user_live", email: "same@example.com" });
    expect(liveCreated.unresolvedCustomers).toBeUndefined();
    expect((await customerRow(h.store, h.liveKey, "cus_x")).external_user_id).toBe("user_live");
    await expectCounterConsistent(h);
  });

  it("unresolvedCustomers counts only the key's own environment", async () => {
    await h.caller(h.liveKey.secretKey).customers.import({ customers: [stripeCustomer("a"), stripeCustomer("b")] });
    const test = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    const live = await h.caller(h.liveKey.secretKey).sessionTokens.create({ externalUserId: "user_1" });
    expect(test.unresolvedCustomers).toBeUndefined();
    expect(live.unresolvedCustomers).toBe(2);
  });
});

describe("organizations never see each other's customers", () => {
  it("Globex cannot list, get, bind or lazily bind Acme's customers", async () => {
    const acme = h.caller(h.testKey.secretKey);
    const globex = h.caller(h.otherOrgKey.secretKey);
    await acme.customers.import({ customers: [stripeCustomer("acme", { email: "user@example.com" })] });
    await acme.customers.bind({ stripeCustomerId: "cus_acme", externalUserId: "user_bound" });
    await acme.customers.import({ customers: [stripeCustomer("acme2", { email: "other@example.com" })] });

    expect((await globex.customers.listUnresolved({})).data).toEqual([]);
    // Rejected: cus_acme belongs to another organization.
    expect((await rejectionOf(globex.customers.get({ stripeCustomerId: "cus_acme" }))).error.code).toBe("NOT_FOUND");
    // Rejected: user_bound is bound in another organization.
    expect((await rejectionOf(globex.customers.get({ externalUserId: "user_bound" }))).error.code).toBe("NOT_FOUND");
    // Rejected: Globex cannot bind a customer of Acme.
    const bind = await rejectionOf(globex.customers.bind({ stripeCustomerId: "cus_acme2", externalUserId: "user_g" }));
    expect(bind.error.code).toBe("NOT_FOUND");

    const created = await globex.sessionTokens.create({ externalUserId: "user_g", email: "other@example.com" });
    expect(created.unresolvedCustomers).toBeUndefined();
    expect((await customerRow(h.store, h.testKey, "cus_acme2")).external_user_id).toBeNull();
    expect(await counterOf(h.store, h.otherOrgKey)).toBe(0);
  });

  it("Globex importing the same Stripe id creates its own customer and leaves Acme's alone", async () => {
    const acme = h.caller(h.testKey.secretKey);
    const globex = h.caller(h.otherOrgKey.secretKey);
    await acme.customers.import({ customers: [stripeCustomer("x", { name: "Acme's" })] });
    const before = await customerRow(h.store, h.testKey, "cus_x");

    const report = await globex.customers.import({ customers: [stripeCustomer("x", { name: "Globex's" })] });
    expect(report).toMatchObject({ created: 1, updated: 0, unchanged: 0 });
    expect(await customerRow(h.store, h.testKey, "cus_x")).toEqual(before);
    expect((await globex.customers.get({ stripeCustomerId: "cus_x" })).name).toBe("Globex's");
    expect((await acme.customers.get({ stripeCustomerId: "cus_x" })).name).toBe("Acme's");
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("a user id bound in Acme may be bound in Globex too", async () => {
    await h
      .caller(h.testKey.secretKey)
      .customers.import({ customers: [stripeCustomer("a", { metadata: { userId: "user_1" } })] });
    const report = await h
      .caller(h.otherOrgKey.secretKey)
      .customers.import({ customers: [stripeCustomer("g", { metadata: { userId: "user_1" } })] });
    expect(report.preBound).toBe(1);
  });
});
