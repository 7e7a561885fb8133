import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, rejectionOf, START_TIME } from "../harness.js";
import { allCounterRows, allCustomerRows, customerRow, expectCounterConsistent, stripeCustomer } from "./support.js";

// Issue item 9: merchants can undo a wrong binding (customers.unbind) and move one to another user
// in one call (customers.bind with rebind: true), both audited.

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);

async function auditEvents() {
  return h.store.kysely
    .selectFrom("audit_events")
    .selectAll()
    .where("action", "in", ["customer.bound", "customer.unbound"])
    .orderBy("id")
    .execute();
}

describe("customers.unbind", () => {
  it("undoes a lazy binding: the customer is unbound, counted, listed as binding_undone, and audited with its actor", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a"), stripeCustomer("b")] });
    await acme().sessionTokens.create({ externalUserId: "user_wrong", email: "a@example.com" });
    expect(await expectCounterConsistent(h)).toBe(1);
    h.clock.advance(9_000);

    const unbound = await acme().customers.unbind({ stripeCustomerId: "cus_a" });
    expect(unbound).toMatchObject({ stripeCustomerId: "cus_a", externalUserId: null, boundAt: null, boundBy: null });
    expect(await customerRow(h.store, h.testKey, "cus_a")).toMatchObject({
      unbound_at: START_TIME + 9_000,
      bound_at: null,
    });
    expect(await expectCounterConsistent(h)).toBe(2);
    expect((await acme().customers.listUnresolved({})).data.map((c) => [c.stripeCustomerId, c.reason])).toEqual([
      ["cus_a", "binding_undone"],
      ["cus_b", "awaiting_first_session"],
    ]);
    expect(
      (await acme().customers.listUnresolved({ reason: "binding_undone" })).data.map((c) => c.stripeCustomerId),
    ).toEqual(["cus_a"]);

    const trail = await acme().audit.listForCustomer({ externalUserId: "user_wrong" });
    expect(trail.data[0]).toMatchObject({
      action: "customer.unbound",
      actor: { type: "api_key", id: h.testKey.id },
      subjectId: "cus_a",
      externalUserId: "user_wrong",
      occurredAt: new Date(START_TIME + 9_000).toISOString(),
      details: { boundBy: "email", boundAt: new Date(START_TIME).toISOString(), reboundTo: null },
    });
  });

  it("an undone customer never binds lazily again, to the same user or another", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    await acme().sessionTokens.create({ externalUserId: "user_wrong", email: "a@example.com" });
    await acme().customers.unbind({ stripeCustomerId: "cus_a" });

    for (const user of ["user_wrong", "user_other"]) {
      const created = await acme().sessionTokens.create({ externalUserId: user, email: "a@example.com" });
      expect(created.unresolvedCustomers).toBe(1);
    }
    expect((await customerRow(h.store, h.testKey, "cus_a")).external_user_id).toBeNull();
  });

  it("an undone customer is not bound again from import metadata; it binds by hand", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a", { metadata: { userId: "user_meta" } })] });
    await acme().customers.unbind({ stripeCustomerId: "cus_a" });
    const report = await acme().customers.import({
      customers: [stripeCustomer("a", { metadata: { userId: "user_meta" } })],
    });
    expect(report).toMatchObject({ preBound: 0, unresolved: { binding_undone: 1 } });
    expect((await customerRow(h.store, h.testKey, "cus_a")).external_user_id).toBeNull();

    const bound = await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_right" });
    expect(bound).toMatchObject({ externalUserId: "user_right", boundBy: "manual" });
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("unbinding a customer that is not bound returns it unchanged and writes nothing", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    const [rows, counters, events] = [
      await allCustomerRows(h.store),
      await allCounterRows(h.store),
      await auditEvents(),
    ];
    h.clock.advance(1_000);
    const result = await acme().customers.unbind({ stripeCustomerId: "cus_a" });
    expect(result).toEqual(await acme().customers.get({ stripeCustomerId: "cus_a" }));
    expect(await allCustomerRows(h.store)).toEqual(rows);
    expect(await allCounterRows(h.store)).toEqual(counters);
    expect(await auditEvents()).toEqual(events);
    // Never bound, it still binds lazily.
    await acme().sessionTokens.create({ externalUserId: "user_a", email: "a@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_a")).external_user_id).toBe("user_a");
  });

  it("unbinding twice: the second call returns the customer as the first left it, one audit event", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_a" });
    const first = await acme().customers.unbind({ stripeCustomerId: "cus_a" });
    h.clock.advance(1_000);
    expect(await acme().customers.unbind({ stripeCustomerId: "cus_a" })).toEqual(first);
    expect((await auditEvents()).filter((e) => e.action === "customer.unbound")).toHaveLength(1);
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("unbinding one of two customers with the same email makes that email ambiguous for good", async () => {
    await acme().customers.import({
      customers: [stripeCustomer("a", { email: "x@example.com", metadata: { userId: "user_a" } })],
    });
    await acme().customers.import({ customers: [stripeCustomer("b", { email: "x@example.com" })] });
    await acme().customers.unbind({ stripeCustomerId: "cus_a" });
    expect((await acme().customers.listUnresolved({})).data.map((c) => [c.stripeCustomerId, c.reason])).toEqual([
      ["cus_a", "binding_undone"],
      ["cus_b", "email_shared"],
    ]);
    await acme().sessionTokens.create({ externalUserId: "user_b", email: "x@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_b")).external_user_id).toBeNull();
  });

  it("refuses an unknown customer, and another environment's or organization's, with NOT_FOUND; writes nothing", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a", { metadata: { userId: "user_a" } })] });
    const rows = await allCustomerRows(h.store);
    for (const [secretKey, id] of [
      [h.testKey.secretKey, "cus_nope"],
      [h.liveKey.secretKey, "cus_a"],
      [h.otherOrgKey.secretKey, "cus_a"],
    ] as const) {
      const rejection = await rejectionOf(h.caller(secretKey).customers.unbind({ stripeCustomerId: id }));
      expect(rejection.error.code).toBe("NOT_FOUND");
      expect(rejection.message).toContain(id);
    }
    expect(await allCustomerRows(h.store)).toEqual(rows);
  });

  it("refuses bad input with BAD_REQUEST and field errors, and a call without a secret key with UNAUTHORIZED", async () => {
    const badId = await rejectionOf(acme().customers.unbind({ stripeCustomerId: "user_1" }));
    expect(badId.error.code).toBe("BAD_REQUEST");
    expect(badId.data.fieldErrors).toHaveProperty("stripeCustomerId");
    // @ts-expect-error: an unknown field is refused, not ignored
    const unknown = await rejectionOf(acme().customers.unbind({ stripeCustomerId: "cus_a", externalUserId: "user_1" }));
    expect(unknown.error.code).toBe("BAD_REQUEST");
    expect((await rejectionOf(h.caller().customers.unbind({ stripeCustomerId: "cus_a" }))).error.code).toBe(
      "UNAUTHORIZED",
    );
  });
});

describe("customers.bind with rebind: true (move a binding in one call)", () => {
  it("moves a customer from user A to user B atomically: two audit events, counter unchanged", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a"), stripeCustomer("z")] });
    await acme().sessionTokens.create({ externalUserId: "user_a", email: "a@example.com" });
    const before = await expectCounterConsistent(h);
    h.clock.advance(3_000);

    const moved = await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_b", rebind: true });
    expect(moved).toMatchObject({
      externalUserId: "user_b",
      boundBy: "manual",
      boundAt: new Date(START_TIME + 3_000).toISOString(),
    });
    expect(await expectCounterConsistent(h)).toBe(before);
    const events = (await auditEvents()).slice(-2);
    expect(events.map((e) => [e.action, e.external_user_id, e.subject_id])).toEqual([
      ["customer.unbound", "user_a", "cus_a"],
      ["customer.bound", "user_b", "cus_a"],
    ]);
    expect(JSON.parse(events[0]!.details!)).toEqual({
      boundBy: "email",
      boundAt: new Date(START_TIME).toISOString(),
      reboundTo: "user_b",
    });
    // user_a is free again: bound to nothing, it may be bound by hand elsewhere.
    await expect(acme().customers.get({ externalUserId: "user_a" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await acme().customers.bind({ stripeCustomerId: "cus_z", externalUserId: "user_a" });
  });

  it("without rebind, a customer bound elsewhere is a CONFLICT that says how to move it", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a", { metadata: { userId: "user_a" } })] });
    const rejection = await rejectionOf(acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_b" }));
    expect(rejection.error.code).toBe("CONFLICT");
    expect(rejection.message).toContain("rebind: true");
  });

  it("refuses to move a binding to a user already bound to another customer, and changes nothing", async () => {
    await acme().customers.import({
      customers: [
        stripeCustomer("a", { metadata: { userId: "user_a" } }),
        stripeCustomer("b", { metadata: { userId: "user_b" } }),
      ],
    });
    const [rows, counters, events] = [
      await allCustomerRows(h.store),
      await allCounterRows(h.store),
      await auditEvents(),
    ];
    const rejection = await rejectionOf(
      acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_b", rebind: true }),
    );
    expect(rejection.error.code).toBe("CONFLICT");
    expect(rejection.message).toContain("cus_b");
    expect(await allCustomerRows(h.store)).toEqual(rows);
    expect(await allCounterRows(h.store)).toEqual(counters);
    expect(await auditEvents()).toEqual(events);
  });

  it("with rebind, binding an unbound customer is a plain bind, and the same user again a no-op", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    const bound = await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_a", rebind: true });
    expect(bound).toMatchObject({ externalUserId: "user_a", boundBy: "manual" });
    expect(await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_a", rebind: true })).toEqual(
      bound,
    );
    expect((await auditEvents()).map((e) => e.action)).toEqual(["customer.bound"]);
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("refuses a rebind that is not a boolean with BAD_REQUEST naming it", async () => {
    const rejection = await rejectionOf(
      // @ts-expect-error: rebind is a boolean
      acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "u", rebind: "yes" }),
    );
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(rejection.data.fieldErrors).toHaveProperty("rebind");
  });
});
