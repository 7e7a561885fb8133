import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, START_TIME } from "../harness.js";
import { customerRow, expectCounterConsistent, stripeCustomer } from "./support.js";

// An import decides every row in memory, in batch order, from what it read of the batch's customers
// beforehand: each row must still see what the rows before it in the same batch did (the same Stripe
// id twice, one user id named twice), exactly as if each row had been written before the next was read.

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);
const NO_UNRESOLVED = { awaiting_first_session: 0, no_email: 0, email_shared: 0, binding_undone: 0 };

/** The scope's audit events of the given actions, in id order (the order they were recorded in). */
async function eventsOf(...actions: string[]) {
  const rows = await h.store.kysely
    .selectFrom("audit_events")
    .select(["action", "subject_id", "external_user_id", "details", "actor_id", "occurred_at"])
    .where("organization_id", "=", h.testKey.organizationId)
    .where("environment", "=", "test")
    .where("action", "in", actions as never)
    .orderBy("id")
    .execute();
  return rows.map((row) => ({
    ...row,
    occurred_at: Number(row.occurred_at),
    details: row.details === null ? null : JSON.parse(row.details),
  }));
}

describe("customers.import: one Stripe id twice in a batch", () => {
  it("the same row twice: created once, then unchanged", async () => {
    const report = await acme().customers.import({ customers: [stripeCustomer("a"), stripeCustomer("a")] });
    expect(report).toEqual({
      dryRun: false,
      created: 1,
      updated: 0,
      unchanged: 1,
      preBound: 0,
      unresolved: { ...NO_UNRESOLVED, awaiting_first_session: 1 },
    });
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("a second row with other data updates what the first created: the last row's data is stored", async () => {
    h.clock.advance(5);
    const report = await acme().customers.import({
      customers: [
        stripeCustomer("a"),
        stripeCustomer("a", { email: null, name: "Second" }),
        stripeCustomer("a", { name: "Third" }),
      ],
    });
    expect(report).toMatchObject({
      created: 1,
      updated: 2,
      unchanged: 0,
      preBound: 0,
      unresolved: { ...NO_UNRESOLVED, awaiting_first_session: 1 },
    });
    expect(await customerRow(h.store, h.testKey, "cus_a")).toMatchObject({
      email: "a@example.com",
      email_normalized: "a@example.com",
      name: "Third",
      imported_at: START_TIME + 5,
      updated_at: START_TIME + 5,
      external_user_id: null,
    });
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("a row whose earlier twin pre-bound it is unchanged, and the customer stays bound to the first user", async () => {
    const report = await acme().customers.import({
      customers: [
        stripeCustomer("a", { metadata: { user_id: "user_1" } }),
        stripeCustomer("a", { name: "Ignored", metadata: { user_id: "user_2" } }),
      ],
    });
    expect(report).toEqual({
      dryRun: false,
      created: 1,
      updated: 0,
      unchanged: 1,
      preBound: 1,
      unresolved: NO_UNRESOLVED,
    });
    expect(await customerRow(h.store, h.testKey, "cus_a")).toMatchObject({
      name: "Customer a",
      external_user_id: "user_1",
      bound_by: "metadata",
    });
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("a later twin that pre-binds a customer an earlier row left unbound: pre-bound, not unresolved", async () => {
    const report = await acme().customers.import({
      customers: [stripeCustomer("a"), stripeCustomer("a", { metadata: { userId: "user_1" } })],
    });
    expect(report).toEqual({
      dryRun: false,
      created: 1,
      updated: 1,
      unchanged: 0,
      preBound: 1,
      unresolved: NO_UNRESOLVED,
    });
    expect(await customerRow(h.store, h.testKey, "cus_a")).toMatchObject({
      external_user_id: "user_1",
      metadata: JSON.stringify({ userId: "user_1" }),
    });
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("a stored unbound customer named twice, pre-bound by its second row: one update, one pre-bind", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    h.clock.advance(1_000);
    const report = await acme().customers.import({
      customers: [stripeCustomer("a"), stripeCustomer("a", { metadata: { userId: "user_1" } }), stripeCustomer("a")],
    });
    // The third row finds it bound: unchanged, and the metadata the second row brought stays.
    expect(report).toEqual({
      dryRun: false,
      created: 0,
      updated: 1,
      unchanged: 2,
      preBound: 1,
      unresolved: NO_UNRESOLVED,
    });
    expect(await customerRow(h.store, h.testKey, "cus_a")).toMatchObject({
      external_user_id: "user_1",
      bound_at: START_TIME + 1_000,
      updated_at: START_TIME + 1_000,
      metadata: JSON.stringify({ userId: "user_1" }),
    });
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("a row changing a stored customer and its twin changing it back still writes (updated twice, updated_at moves)", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    h.clock.advance(1_000);
    const report = await acme().customers.import({
      customers: [stripeCustomer("a", { name: "Other" }), stripeCustomer("a")],
    });
    expect(report).toMatchObject({ created: 0, updated: 2, unchanged: 0 });
    expect(await customerRow(h.store, h.testKey, "cus_a")).toMatchObject({
      name: "Customer a",
      updated_at: START_TIME + 1_000,
      imported_at: START_TIME,
    });
  });
});

describe("customers.import: pre-binding from metadata within a batch", () => {
  it("two customers naming one user id: the first is bound, the second left unbound", async () => {
    const report = await acme().customers.import({
      customers: [
        stripeCustomer("a", { metadata: { user_id: "user_1" } }),
        stripeCustomer("b", { metadata: { user_id: "user_1" } }),
      ],
    });
    expect(report).toMatchObject({
      created: 2,
      preBound: 1,
      unresolved: { ...NO_UNRESOLVED, awaiting_first_session: 1 },
    });
    expect((await customerRow(h.store, h.testKey, "cus_a")).external_user_id).toBe("user_1");
    expect((await customerRow(h.store, h.testKey, "cus_b")).external_user_id).toBeNull();
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("a user id bound before the batch (by hand) is not bound again; a user id of another scope does not count", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a")] });
    await acme().customers.bind({ stripeCustomerId: "cus_a", externalUserId: "user_1" });
    await h
      .caller(h.liveKey.secretKey)
      .customers.import({ customers: [stripeCustomer("live", { metadata: { user_id: "user_2" } })] });

    const report = await acme().customers.import({
      customers: [
        stripeCustomer("b", { metadata: { user_id: "user_1" } }),
        stripeCustomer("c", { metadata: { user_id: "user_2" } }),
      ],
    });
    expect(report).toMatchObject({
      created: 2,
      preBound: 1,
      unresolved: { ...NO_UNRESOLVED, awaiting_first_session: 1 },
    });
    expect((await customerRow(h.store, h.testKey, "cus_b")).external_user_id).toBeNull();
    expect((await customerRow(h.store, h.testKey, "cus_c")).external_user_id).toBe("user_2");
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("a customer whose binding was undone is not bound from metadata, even when its row changes", async () => {
    await acme().customers.import({ customers: [stripeCustomer("a", { metadata: { user_id: "user_1" } })] });
    await acme().customers.unbind({ stripeCustomerId: "cus_a" });
    const report = await acme().customers.import({
      customers: [stripeCustomer("a", { name: "New", metadata: { user_id: "user_1" } })],
    });
    expect(report).toMatchObject({ updated: 1, preBound: 0, unresolved: { ...NO_UNRESOLVED, binding_undone: 1 } });
    expect(await customerRow(h.store, h.testKey, "cus_a")).toMatchObject({ name: "New", external_user_id: null });
    expect(await expectCounterConsistent(h)).toBe(1);
  });

  it("records one customer.bound event per pre-bound customer, in batch order, then the import's event", async () => {
    h.clock.advance(7);
    await acme().customers.import({
      customers: [
        stripeCustomer("z", { metadata: { user_id: "user_z" } }),
        stripeCustomer("plain"),
        stripeCustomer("m", { metadata: { external_id: "user_m" } }),
        stripeCustomer("z", { metadata: { user_id: "user_other" } }),
      ],
    });
    const common = { actor_id: h.testKey.id, occurred_at: START_TIME + 7 };
    expect(await eventsOf("customer.bound", "customers.imported")).toEqual([
      {
        ...common,
        action: "customer.bound",
        subject_id: "cus_z",
        external_user_id: "user_z",
        details: { method: "metadata" },
      },
      {
        ...common,
        action: "customer.bound",
        subject_id: "cus_m",
        external_user_id: "user_m",
        details: { method: "metadata" },
      },
      {
        ...common,
        action: "customers.imported",
        subject_id: null,
        external_user_id: null,
        details: {
          created: 3,
          updated: 0,
          unchanged: 1,
          preBound: 2,
          unresolved: { ...NO_UNRESOLVED, awaiting_first_session: 1 },
        },
      },
    ]);
  });

  it("a dry run records no event and binds nobody", async () => {
    const report = await acme().customers.import({
      customers: [stripeCustomer("a", { metadata: { user_id: "user_1" } })],
      dryRun: true,
    });
    expect(report).toMatchObject({ dryRun: true, created: 1, preBound: 1 });
    expect(await eventsOf("customer.bound", "customers.imported")).toEqual([]);
    const real = await acme().customers.import({
      customers: [stripeCustomer("a", { metadata: { user_id: "user_1" } })],
    });
    expect(real).toEqual({ ...report, dryRun: false });
  });
});
