import { unresolvedReason } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, rejectionOf } from "../harness.js";
import { counterOf, expectCounterConsistent, stripeCustomer, stripeCustomers, unboundCountOf } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);

describe("unresolvedCustomers in sessionTokens.create (SPEC §2)", () => {
  it("is absent while the organization has no imported customer", async () => {
    const created = await acme().sessionTokens.create({ externalUserId: "user_1", email: "user@example.com" });
    expect(created).not.toHaveProperty("unresolvedCustomers");
  });

  it("equals the number of unbound customers and decreases by one with each bind a creation makes", async () => {
    await acme().customers.import({ customers: stripeCustomers("c", 3) });

    const first = await acme().sessionTokens.create({ externalUserId: "user_x" });
    expect(first.unresolvedCustomers).toBe(3);
    expect(first.unresolvedCustomers).toBe(await unboundCountOf(h.store, h.testKey));

    const second = await acme().sessionTokens.create({ externalUserId: "user_0", email: "c0@example.com" });
    expect(second.unresolvedCustomers).toBe(2);
    const third = await acme().sessionTokens.create({ externalUserId: "user_1", email: "c1@example.com" });
    expect(third.unresolvedCustomers).toBe(1);
    // A creation that binds nothing leaves it as it was.
    const again = await acme().sessionTokens.create({ externalUserId: "user_1", email: "c1@example.com" });
    expect(again.unresolvedCustomers).toBe(1);

    const last = await acme().sessionTokens.create({ externalUserId: "user_2", email: "c2@example.com" });
    expect(last).not.toHaveProperty("unresolvedCustomers");
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("is absent for the other environment and the other organization", async () => {
    await acme().customers.import({ customers: stripeCustomers("c", 2) });
    expect((await acme().sessionTokens.create({ externalUserId: "u" })).unresolvedCustomers).toBe(2);
    expect(await h.caller(h.liveKey.secretKey).sessionTokens.create({ externalUserId: "u" })).not.toHaveProperty(
      "unresolvedCustomers",
    );
    expect(await h.caller(h.otherOrgKey.secretKey).sessionTokens.create({ externalUserId: "u" })).not.toHaveProperty(
      "unresolvedCustomers",
    );
  });

  it("counts pre-bound customers out and email_shared / no_email customers in", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("meta", { metadata: { userId: "user_meta" } }),
        stripeCustomer("none", { email: null }),
        stripeCustomer("s1", { email: "s@example.com" }),
        stripeCustomer("s2", { email: "s@example.com" }),
      ],
    });
    expect(
      (await acme().sessionTokens.create({ externalUserId: "u", email: "s@example.com" })).unresolvedCustomers,
    ).toBe(3);
  });

  it("does not change when token creation is rejected", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    // Rejected: expiresIn 59 is below the 60 s floor; the bind that would have come with it must not happen.
    const rejection = await rejectionOf(
      acme().sessionTokens.create({ externalUserId: "user_a", email: "a@example.com", expiresIn: 59 }),
    );
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(await expectCounterConsistent(h)).toBe(1);
  });
});

describe("the maintained counter (customer_binding_counts)", () => {
  it("equals count(*) where external_user_id is null after every step of a mixed sequence", async () => {
    const steps: Array<[string, () => Promise<unknown>, number]> = [
      ["import 5 new", () => acme().customers.import({ customers: stripeCustomers("c", 5) }), 5],
      [
        "import 2 sharing an email, 1 pre-bound, 1 without email",
        () =>
          acme().customers.import({
            customers: [
              stripeCustomer("s1", { email: "shared@example.com" }),
              stripeCustomer("s2", { email: "shared@example.com" }),
              stripeCustomer("m", { metadata: { external_id: "user_m" } }),
              stripeCustomer("n", { email: null }),
            ],
          }),
        8,
      ],
      ["lazy bind c0", () => acme().sessionTokens.create({ externalUserId: "user_c0", email: "c0@example.com" }), 7],
      [
        "a token that binds nothing (shared)",
        () => acme().sessionTokens.create({ externalUserId: "u9", email: "shared@example.com" }),
        7,
      ],
      ["manual bind s1", () => acme().customers.bind({ stripeCustomerId: "cus_s1", externalUserId: "user_s1" }), 6],
      [
        "manual bind s1 again (no-op)",
        () => acme().customers.bind({ stripeCustomerId: "cus_s1", externalUserId: "user_s1" }),
        6,
      ],
      // The email stays ambiguous once shared: s2 is not bound lazily (issue item 6).
      [
        "s2 stays email_shared: no lazy bind",
        () => acme().sessionTokens.create({ externalUserId: "user_s2", email: "shared@example.com" }),
        6,
      ],
      [
        "unbind s1 (back to unresolved, binding_undone)",
        () => acme().customers.unbind({ stripeCustomerId: "cus_s1" }),
        7,
      ],
      ["unbind s1 again (no-op)", () => acme().customers.unbind({ stripeCustomerId: "cus_s1" }), 7],
      [
        "rebind c0 from user_c0 to user_moved (counter unchanged)",
        () => acme().customers.bind({ stripeCustomerId: "cus_c0", externalUserId: "user_moved", rebind: true }),
        7,
      ],
      [
        "bind s2 and s1 by hand",
        async () => {
          await acme().customers.bind({ stripeCustomerId: "cus_s2", externalUserId: "user_s2" });
          await acme().customers.bind({ stripeCustomerId: "cus_s1", externalUserId: "user_s1" });
        },
        5,
      ],
      ["re-import everything unchanged", () => acme().customers.import({ customers: stripeCustomers("c", 5) }), 5],
      [
        "re-import c1 with metadata naming a user (pre-binds an existing customer), c2 renamed, 2 new",
        () =>
          acme().customers.import({
            customers: [
              stripeCustomer("c1", { metadata: { user_id: "user_c1" } }),
              stripeCustomer("c2", { name: "Renamed" }),
              stripeCustomer("c5"),
              stripeCustomer("c6", { metadata: { userId: "user_c6" } }),
            ],
          }),
        5,
      ],
      [
        "dry-run import of 10 new",
        () => acme().customers.import({ customers: stripeCustomers("dry", 10), dryRun: true }),
        5,
      ],
      [
        "re-import a bound customer with another email",
        () => acme().customers.import({ customers: [stripeCustomer("c0", { email: "c3@example.com" })] }),
        5,
      ],
      [
        "c3 binds despite c0's re-import naming its email",
        () => acme().sessionTokens.create({ externalUserId: "user_c3", email: "c3@example.com" }),
        4,
      ],
      [
        "live import does not touch test's count",
        () => h.caller(h.liveKey.secretKey).customers.import({ customers: stripeCustomers("c", 3) }),
        4,
      ],
      [
        "Globex import does not touch Acme's count",
        () => h.caller(h.otherOrgKey.secretKey).customers.import({ customers: stripeCustomers("c", 2) }),
        4,
      ],
      [
        "live lazy bind",
        () => h.caller(h.liveKey.secretKey).sessionTokens.create({ externalUserId: "u", email: "c0@example.com" }),
        4,
      ],
    ];

    for (const [name, step, expectedTestCount] of steps) {
      await step();
      h.clock.advance(1_000);
      expect(await expectCounterConsistent(h), `after "${name}"`).toBe(expectedTestCount);
      // The listing by reason partitions exactly those customers: each once, under one reason.
      const byReason = await Promise.all(
        unresolvedReason.options.map(
          async (reason) => (await acme().customers.listUnresolved({ reason, limit: 100 })).data,
        ),
      );
      const ids = byReason.flat().map((c) => c.stripeCustomerId);
      expect(new Set(ids).size, `after "${name}"`).toBe(ids.length);
      expect(ids.length, `after "${name}"`).toBe(expectedTestCount);
    }
    expect(await counterOf(h.store, h.liveKey)).toBe(2);
    expect(await counterOf(h.store, h.otherOrgKey)).toBe(2);
  });

  it("is not touched by rejected binds", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a"), stripeCustomer("b")] });
    await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_a" });
    // Rejected: cus_a is already bound to user_a.
    await rejectionOf(acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_b" }));
    // Rejected: user_a is already bound to cus_a.
    await rejectionOf(acme().customers.bind({ stripeCustomerId: "cus_b", externalUserId: "user_a" }));
    // Rejected: no such customer.
    await rejectionOf(acme().customers.bind({ stripeCustomerId: "cus_nope", externalUserId: "user_c" }));
    expect(await expectCounterConsistent(h)).toBe(1);
  });
});
