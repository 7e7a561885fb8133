import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, rejectionOf, START_TIME } from "../harness.js";
import { customerRow, expectCounterConsistent, stripeCustomer } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);

describe("customers.bind (manual bind)", () => {
  it("binds an unbound customer with boundBy manual and returns it", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a"), stripeCustomer("b")] });
    h.clock.advance(7_000);
    const bound = await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_a" });
    expect(bound).toMatchObject({
      stripeCustomerId: "cus_a",
      externalUserId: "user_a",
      boundBy: "manual",
      boundAt: new Date(START_TIME + 7_000).toISOString(),
    });
    expect(await acme().customers.get({ externalUserId: "user_a" })).toEqual(bound);
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("binds an email_shared customer by hand; its twin stays email_shared and never binds lazily", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("s1", { email: "s@example.com" }), stripeCustomer("s2", { email: "s@example.com" })],
    });
    await acme().customers.bind({ stripeCustomerId: "cus_s1", externalUserId: "user_1" });
    expect((await acme().customers.listUnresolved({})).data.map((c) => [c.stripeCustomerId, c.reason])).toEqual([
      ["cus_s2", "email_shared"],
    ]);
    // Item 6: the email was ambiguous; it stays so. The next user presenting it is not bound to cus_s2.
    await acme().sessionTokens.create({ externalUserId: "user_2", email: "s@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_s2")).external_user_id).toBeNull();
    await acme().customers.bind({ stripeCustomerId: "cus_s2", externalUserId: "user_2" });
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("binding the same customer to the same user again is an ok no-op", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    const first = await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_a" });
    const row = await customerRow(h.store, h.testKey, "cus_a");
    h.clock.advance(60_000);
    const second = await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_a" });
    expect(second).toEqual(first);
    expect(await customerRow(h.store, h.testKey, "cus_a")).toEqual(row);
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("binding a customer bound by email to that same user is an ok no-op that keeps boundBy email", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    await acme().sessionTokens.create({ externalUserId: "user_a", email: "a@example.com" });
    const again = await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_a" });
    expect(again).toMatchObject({ externalUserId: "user_a", boundBy: "email" });
  });

  it("refuses a customer bound to someone else with CONFLICT naming the customer and both users", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_first" });
    const row = await customerRow(h.store, h.testKey, "cus_a");

    // Rejected: a bound customer is never re-bound, not even by hand.
    const rejection = await rejectionOf(
      acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_second" }),
    );
    expect(rejection.error.code).toBe("CONFLICT");
    expect(rejection.message).toContain("cus_a");
    expect(rejection.message).toContain("user_first");
    expect(await customerRow(h.store, h.testKey, "cus_a")).toEqual(row);
  });

  it("refuses a customer pre-bound from metadata to someone else with CONFLICT", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a", { metadata: { external_id: "user_meta" } })] });
    // Rejected: cus_a was bound at import to user_meta.
    const rejection = await rejectionOf(
      acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_other" }),
    );
    expect(rejection.error.code).toBe("CONFLICT");
    expect(rejection.message).toContain("user_meta");
  });

  it("refuses a user already bound to another customer with CONFLICT naming the user and that customer", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a"), stripeCustomer("b")] });
    await acme().sessionTokens.create({ externalUserId: "user_a", email: "a@example.com" });
    const rowB = await customerRow(h.store, h.testKey, "cus_b");

    // Rejected: user_a is already bound to cus_a; a user has one customer at most.
    const rejection = await rejectionOf(acme().customers.bind({ stripeCustomerId: "cus_b", externalUserId: "user_a" }));
    expect(rejection.error.code).toBe("CONFLICT");
    expect(rejection.message).toContain("user_a");
    expect(rejection.message).toContain("cus_a");
    expect(await customerRow(h.store, h.testKey, "cus_b")).toEqual(rowB);
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("refuses an unknown Stripe id with NOT_FOUND naming it", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    // Rejected: there is no imported customer cus_unknown to bind.
    const rejection = await rejectionOf(
      acme().customers.bind({ stripeCustomerId: "cus_unknown", externalUserId: "user_1" }),
    );
    expect(rejection.error.code).toBe("NOT_FOUND");
    expect(rejection.message).toContain("cus_unknown");
  });

  it("refuses bad input with BAD_REQUEST naming the field", async () => {
    // Rejected: "xyz" is not a Stripe customer id.
    const badId = await rejectionOf(acme().customers.bind({ stripeCustomerId: "xyz", externalUserId: "user_1" }));
    expect(badId.error.code).toBe("BAD_REQUEST");
    expect(badId.data.fieldErrors).toHaveProperty("stripeCustomerId");
    // Rejected: an empty user id would bind the customer to nobody.
    const emptyUser = await rejectionOf(acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "" }));
    expect(emptyUser.data.fieldErrors).toHaveProperty("externalUserId");
  });
});
