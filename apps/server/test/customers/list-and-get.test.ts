import type { UnresolvedReason } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, rejectionOf } from "../harness.js";
import { stripeCustomer, stripeCustomers } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);

/** Every page of listUnresolved with `limit`, following nextCursor until it is null. */
async function allPages(limit: number, reason?: UnresolvedReason) {
  const pages: Array<{ ids: string[]; nextCursor: string | null }> = [];
  let cursor: string | undefined;
  do {
    const page = await acme().customers.listUnresolved({
      limit,
      ...(reason ? { reason } : {}),
      ...(cursor ? { cursor } : {}),
    });
    pages.push({ ids: page.data.map((c) => c.stripeCustomerId), nextCursor: page.nextCursor });
    cursor = page.nextCursor ?? undefined;
    if (pages.length > 100) throw new Error("pagination does not end");
  } while (cursor !== undefined);
  return pages;
}

describe("customers.listUnresolved", () => {
  it("pages 45 customers by 20 as 20, 20, 5 in import order, without duplicates", async () => {
    const customers = stripeCustomers("c", 45);
    await acme().customers.import({ customers: customers.slice(0, 30) });
    await acme().customers.import({ customers: customers.slice(30) });

    const pages = await allPages(20);
    expect(pages.map((page) => page.ids.length)).toEqual([20, 20, 5]);
    expect(pages.at(-1)!.nextCursor).toBeNull();
    const ids = pages.flatMap((page) => page.ids);
    expect(new Set(ids).size).toBe(45);
    expect(ids).toEqual(customers.map((c) => c.stripeCustomerId));
  });

  it("pages of exactly the limit end with a null cursor", async () => {
    await acme().customers.import({ customers: stripeCustomers("c", 40) });
    expect((await allPages(20)).map((page) => page.ids.length)).toEqual([20, 20]);
  });

  it("defaults to 20 per page", async () => {
    await acme().customers.import({ customers: stripeCustomers("c", 25) });
    const page = await acme().customers.listUnresolved({});
    expect(page.data).toHaveLength(20);
    expect(page.nextCursor).not.toBeNull();
  });

  it("leaves bound customers out, also when they are bound between two pages", async () => {
    await acme().customers.import({ customers: stripeCustomers("c", 10) });
    const first = await acme().customers.listUnresolved({ limit: 4 });
    expect(first.data.map((c) => c.stripeCustomerId)).toEqual(["cus_c0", "cus_c1", "cus_c2", "cus_c3"]);
    await acme().sessionTokens.create({ externalUserId: "user_5", email: "c5@example.com" });
    await acme().customers.bind({ stripeCustomerId: "cus_c1", externalUserId: "user_1" });

    const second = await acme().customers.listUnresolved({ limit: 4, cursor: first.nextCursor! });
    expect(second.data.map((c) => c.stripeCustomerId)).toEqual(["cus_c4", "cus_c6", "cus_c7", "cus_c8"]);
    const third = await acme().customers.listUnresolved({ limit: 4, cursor: second.nextCursor! });
    expect(third.data.map((c) => c.stripeCustomerId)).toEqual(["cus_c9"]);
    expect(third.nextCursor).toBeNull();
  });

  describe("filtered by reason", () => {
    beforeEach(async () => {
      await acme().customers.import({
        customers: [
          stripeCustomer("await1"),
          stripeCustomer("none1", { email: null }),
          stripeCustomer("s1", { email: "shared@example.com" }),
          stripeCustomer("await2"),
          stripeCustomer("s2", { email: " SHARED@example.com" }),
          stripeCustomer("none2", { email: "" }),
          stripeCustomer("bound", { metadata: { userId: "user_b" } }),
          stripeCustomer("bshared", { email: "shared2@example.com", metadata: { userId: "user_c" } }),
          stripeCustomer("alone", { email: "shared2@example.com" }),
        ],
      });
    });

    const expected: Record<UnresolvedReason, string[]> = {
      // "alone" shares its email only with a bound customer: it is awaiting its first session.
      awaiting_first_session: ["cus_await1", "cus_await2", "cus_alone"],
      no_email: ["cus_none1", "cus_none2"],
      email_shared: ["cus_s1", "cus_s2"],
      // No binding was undone here (see unbind.test.ts).
      binding_undone: [],
    };

    for (const reason of Object.keys(expected) as UnresolvedReason[]) {
      it(`lists only ${reason} customers, each with that reason`, async () => {
        const page = await acme().customers.listUnresolved({ reason });
        expect(page.data.map((c) => c.stripeCustomerId)).toEqual(expected[reason]);
        expect(page.data.every((c) => c.reason === reason && c.externalUserId === null)).toBe(true);
      });

      it(`paginates the ${reason} filter one by one`, async () => {
        const pages = await allPages(1, reason);
        expect(pages.flatMap((page) => page.ids)).toEqual(expected[reason]);
      });
    }

    it("lists every unbound customer with its reason when unfiltered", async () => {
      const page = await acme().customers.listUnresolved({});
      expect(page.data.map((c) => [c.stripeCustomerId, c.reason])).toEqual([
        ["cus_await1", "awaiting_first_session"],
        ["cus_none1", "no_email"],
        ["cus_s1", "email_shared"],
        ["cus_await2", "awaiting_first_session"],
        ["cus_s2", "email_shared"],
        ["cus_none2", "no_email"],
        ["cus_alone", "awaiting_first_session"],
      ]);
    });
  });

  it("rejects an unknown reason, listing the valid ones", async () => {
    // Rejected: "unbound" is not one of the three reasons; a typo must not list everything.
    const rejection = await rejectionOf(
      acme().customers.listUnresolved({ reason: "unbound" as unknown as UnresolvedReason }),
    );
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(rejection.data.fieldErrors?.reason?.join(" ")).toContain("awaiting_first_session");
  });

  it("rejects a cursor that is not an imported-customer id", async () => {
    // Rejected: a session-token id is not a cursor of this list.
    const rejection = await rejectionOf(acme().customers.listUnresolved({ cursor: "tok_01hzzzzzzzzzzzzzzzzzzzzzzz" }));
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(rejection.data.fieldErrors).toHaveProperty("cursor");
  });

  it("rejects a limit above 100", async () => {
    // Rejected: pages are at most 100 customers.
    const rejection = await rejectionOf(acme().customers.listUnresolved({ limit: 101 }));
    expect(rejection.data.fieldErrors).toHaveProperty("limit");
  });
});

describe("customers.get", () => {
  beforeEach(async () => {
    await acme().customers.import({ customers: [stripeCustomer("a"), stripeCustomer("b")] });
    await acme().sessionTokens.create({ externalUserId: "user_a", email: "a@example.com" });
  });

  it("finds a customer by stripeCustomerId, bound or not", async () => {
    expect(await acme().customers.get({ stripeCustomerId: "cus_a" })).toMatchObject({
      email: "a@example.com",
      externalUserId: "user_a",
    });
    expect(await acme().customers.get({ stripeCustomerId: "cus_b" })).toMatchObject({
      email: "b@example.com",
      externalUserId: null,
    });
  });

  it("finds a customer by the externalUserId it is bound to", async () => {
    expect(await acme().customers.get({ externalUserId: "user_a" })).toMatchObject({
      stripeCustomerId: "cus_a",
      boundBy: "email",
    });
  });

  it("answers NOT_FOUND for an unknown Stripe id, naming it", async () => {
    // Rejected: nothing was imported under cus_zzz.
    const rejection = await rejectionOf(acme().customers.get({ stripeCustomerId: "cus_zzz" }));
    expect(rejection.error.code).toBe("NOT_FOUND");
    expect(rejection.message).toContain("cus_zzz");
  });

  it("answers NOT_FOUND for a user bound to no customer, even one who has tokens", async () => {
    await acme().sessionTokens.create({ externalUserId: "user_lonely" });
    // Rejected: user_lonely has sessions but no imported customer bound to it.
    const rejection = await rejectionOf(acme().customers.get({ externalUserId: "user_lonely" }));
    expect(rejection.error.code).toBe("NOT_FOUND");
    expect(rejection.message).toContain("user_lonely");
  });

  it("refuses both or neither lookup key with BAD_REQUEST", async () => {
    // Rejected: two lookup keys could name two different customers.
    const both = await rejectionOf(acme().customers.get({ stripeCustomerId: "cus_a", externalUserId: "user_a" }));
    expect(both.error.code).toBe("BAD_REQUEST");
    // Rejected: with no lookup key there is nothing to find.
    const neither = await rejectionOf(acme().customers.get({}));
    expect(neither.error.code).toBe("BAD_REQUEST");
  });
});
