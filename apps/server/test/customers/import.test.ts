import { type CustomerToImport, MAX_IMPORT_BATCH } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, rejectionOf, START_TIME } from "../harness.js";
import {
  allCounterRows,
  allCustomerRows,
  counterOf,
  customerRow,
  expectCounterConsistent,
  stripeCustomer,
  stripeCustomers,
} from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);
type ImportInput = Parameters<ReturnType<Harness["caller"]>["customers"]["import"]>[0];
/** Input the type system would refuse, sent anyway as an untyped caller could. */
const untyped = (input: unknown) => input as ImportInput;

const NO_UNRESOLVED = { awaiting_first_session: 0, no_email: 0, email_shared: 0, binding_undone: 0 };

/** A first batch covering every state a customer can be in after import. */
const FIRST_BATCH: CustomerToImport[] = [
  stripeCustomer("keep", { metadata: { plan: "pro" }, createdAt: new Date(START_TIME - 86_400_000).toISOString() }),
  stripeCustomer("change"),
  stripeCustomer("lazy"),
  stripeCustomer("meta", { metadata: { external_user_id: "user_meta" } }),
  stripeCustomer("noemail", { email: null }),
  stripeCustomer("s1", { email: "shared@example.com" }),
  stripeCustomer("s2", { email: "shared@example.com" }),
];

describe("customers.import: the report", () => {
  it("counts a first import exactly", async () => {
    const report = await acme().customers.import({ customers: FIRST_BATCH });
    expect(report).toEqual({
      dryRun: false,
      created: 7,
      updated: 0,
      unchanged: 0,
      preBound: 1,
      unresolved: { awaiting_first_session: 3, no_email: 1, email_shared: 2, binding_undone: 0 },
    });
    expect(await expectCounterConsistent(h)).toBe(6);
  });

  it("counts created, updated, unchanged, pre-bound and unresolved by reason exactly on a mixed re-import", async () => {
    await acme().customers.import({ customers: FIRST_BATCH });
    await acme().sessionTokens.create({ externalUserId: "user_lazy", email: "lazy@example.com" });

    const report = await acme().customers.import({
      customers: [
        FIRST_BATCH[0]!, // same data: unchanged
        stripeCustomer("change", { name: "Renamed" }), // unbound, new name: updated
        stripeCustomer("lazy", { email: "elsewhere@example.com" }), // bound by email: unchanged, never changed
        stripeCustomer("meta", { name: "Ignored" }), // bound by metadata: unchanged
        stripeCustomer("new1"), // created, awaiting its first session
        stripeCustomer("new2", { email: undefined }), // created, no email
        stripeCustomer("new3", { email: "shared@example.com" }), // created, shares an email with s1 and s2
        stripeCustomer("new4", { metadata: { userId: "user_new4" } }), // created and pre-bound
        stripeCustomer("noemail", { metadata: { user_id: "user_noemail" } }), // unbound, now pre-bound: updated
      ],
    });
    expect(report).toEqual({
      dryRun: false,
      created: 4,
      updated: 2,
      unchanged: 3,
      preBound: 2,
      unresolved: { awaiting_first_session: 3, no_email: 1, email_shared: 1, binding_undone: 0 },
    });
    // keep, change, new1 awaiting; new2 without email; s1, s2, new3 shared.
    expect(await expectCounterConsistent(h)).toBe(7);
  });

  it("accepts exactly 1000 customers in one batch", async () => {
    const report = await acme().customers.import({ customers: stripeCustomers("big", MAX_IMPORT_BATCH) });
    expect(report).toMatchObject({
      created: 1000,
      unresolved: { awaiting_first_session: 1000, no_email: 0, email_shared: 0 },
    });
    expect(await expectCounterConsistent(h)).toBe(1000);
  });

  it("stores every field as given, with the email normalized beside it", async () => {
    h.clock.advance(42);
    await acme().customers.import({
      customers: [
        {
          stripeCustomerId: "cus_Full9",
          email: " Full@Example.COM",
          name: "Ada Lovelace",
          metadata: { plan: "pro", seats: "3" },
          createdAt: "2024-03-01T10:00:00.000Z",
        },
      ],
    });
    expect(await customerRow(h.store, h.testKey, "cus_Full9")).toMatchObject({
      email: " Full@Example.COM",
      email_normalized: "full@example.com",
      name: "Ada Lovelace",
      metadata: JSON.stringify({ plan: "pro", seats: "3" }),
      stripe_created_at: Date.parse("2024-03-01T10:00:00.000Z"),
      imported_at: START_TIME + 42,
      updated_at: START_TIME + 42,
      external_user_id: null,
      bound_at: null,
      bound_by: null,
    });
    expect(await acme().customers.get({ stripeCustomerId: "cus_Full9" })).toEqual({
      stripeCustomerId: "cus_Full9",
      environment: "test",
      email: " Full@Example.COM",
      name: "Ada Lovelace",
      metadata: { plan: "pro", seats: "3" },
      createdAt: "2024-03-01T10:00:00.000Z",
      importedAt: new Date(START_TIME + 42).toISOString(),
      externalUserId: null,
      boundAt: null,
      boundBy: null,
    });
  });
});

describe("customers.import: idempotent upsert", () => {
  it("re-importing the same batch is a no-op: all unchanged, rows and counter identical", async () => {
    await acme().customers.import({ customers: FIRST_BATCH });
    await acme().sessionTokens.create({ externalUserId: "user_lazy", email: "lazy@example.com" });
    await acme().customers.bind({ stripeCustomerId: "cus_change", externalUserId: "user_change" });
    const rowsBefore = await allCustomerRows(h.store);
    const countersBefore = await allCounterRows(h.store);
    h.clock.advance(3_600_000);

    const report = await acme().customers.import({ customers: FIRST_BATCH });
    expect(report).toEqual({
      dryRun: false,
      created: 0,
      updated: 0,
      unchanged: 7,
      preBound: 0,
      unresolved: { awaiting_first_session: 1, no_email: 1, email_shared: 2, binding_undone: 0 },
    });
    expect(await allCustomerRows(h.store)).toEqual(rowsBefore);
    expect(await allCounterRows(h.store)).toEqual(countersBefore);
    expect(await expectCounterConsistent(h)).toBe(4);
  });

  it("re-importing the same batch twice in a row right after the first import changes nothing", async () => {
    await acme().customers.import({ customers: FIRST_BATCH });
    const rowsBefore = await allCustomerRows(h.store);
    const countersBefore = await allCounterRows(h.store);
    for (let i = 0; i < 2; i++) {
      h.clock.advance(1_000);
      const report = await acme().customers.import({ customers: FIRST_BATCH });
      expect(report).toMatchObject({ created: 0, updated: 0, unchanged: 7, preBound: 0 });
    }
    expect(await allCustomerRows(h.store)).toEqual(rowsBefore);
    expect(await allCounterRows(h.store)).toEqual(countersBefore);
  });

  it("re-import updates email, name and metadata of an unbound customer", async () => {
    await acme().customers.import({ customers: [stripeCustomer("u", { metadata: { plan: "free" } })] });
    const before = await customerRow(h.store, h.testKey, "cus_u");
    h.clock.advance(10_000);

    const report = await acme().customers.import({
      customers: [stripeCustomer("u", { email: "New@Example.com ", name: "New name", metadata: { plan: "pro" } })],
    });
    expect(report).toMatchObject({ created: 0, updated: 1, unchanged: 0 });
    expect(await customerRow(h.store, h.testKey, "cus_u")).toEqual({
      ...before,
      email: "New@Example.com ",
      email_normalized: "new@example.com",
      name: "New name",
      metadata: JSON.stringify({ plan: "pro" }),
      updated_at: START_TIME + 10_000,
    });
    expect(await expectCounterConsistent(h)).toBe(1);

    // The new email is the one that binds now; the old one no longer does.
    await acme().sessionTokens.create({ externalUserId: "user_old", email: "u@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_u")).external_user_id).toBeNull();
    await acme().sessionTokens.create({ externalUserId: "user_new", email: "new@example.com" });
    expect((await customerRow(h.store, h.testKey, "cus_u")).external_user_id).toBe("user_new");
  });

  it("re-import can clear email, name and metadata of an unbound customer", async () => {
    await acme().customers.import({ customers: [stripeCustomer("u", { metadata: { plan: "free" } })] });
    const report = await acme().customers.import({
      customers: [{ stripeCustomerId: "cus_u", email: null, name: null, metadata: null }],
    });
    expect(report).toMatchObject({
      updated: 1,
      unresolved: { awaiting_first_session: 0, no_email: 1, email_shared: 0 },
    });
    expect(await customerRow(h.store, h.testKey, "cus_u")).toMatchObject({
      email: null,
      email_normalized: null,
      name: null,
      metadata: null,
    });
  });

  it("re-import never unbinds or changes a bound customer, however it was bound", async () => {
    await acme().customers.import({ customers: FIRST_BATCH });
    await acme().sessionTokens.create({ externalUserId: "user_lazy", email: "lazy@example.com" });
    await acme().customers.bind({ stripeCustomerId: "cus_keep", externalUserId: "user_keep" });
    const bound = ["cus_lazy", "cus_meta", "cus_keep"];
    const before = await Promise.all(bound.map((id) => customerRow(h.store, h.testKey, id)));
    h.clock.advance(60_000);

    const report = await acme().customers.import({
      customers: [
        stripeCustomer("lazy", { email: "changed@example.com", name: "Changed", metadata: { userId: "user_other" } }),
        stripeCustomer("meta", { email: null, name: null, metadata: null }),
        stripeCustomer("keep", { metadata: { external_id: "user_someone_else" } }),
      ],
    });
    expect(report).toEqual({
      dryRun: false,
      created: 0,
      updated: 0,
      unchanged: 3,
      preBound: 0,
      unresolved: NO_UNRESOLVED,
    });
    expect(await Promise.all(bound.map((id) => customerRow(h.store, h.testKey, id)))).toEqual(before);
    expect(await expectCounterConsistent(h)).toBe(4);
  });
});

describe("customers.import: dryRun", () => {
  const SECOND_BATCH: CustomerToImport[] = [
    stripeCustomer("change", { name: "Renamed" }),
    stripeCustomer("keep", { metadata: { plan: "pro" }, createdAt: new Date(START_TIME - 86_400_000).toISOString() }),
    stripeCustomer("fresh"),
    stripeCustomer("fresh2", { email: "shared@example.com" }),
    stripeCustomer("fresh3", { metadata: { userId: "user_fresh3" } }),
    stripeCustomer("s1", { metadata: { userId: "user_s1" } }),
  ];

  it("returns the report a real run gives and writes nothing", async () => {
    await acme().customers.import({ customers: FIRST_BATCH });
    const rowsBefore = await allCustomerRows(h.store);
    const countersBefore = await allCounterRows(h.store);

    const dry = await acme().customers.import({ customers: SECOND_BATCH, dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(await allCustomerRows(h.store)).toEqual(rowsBefore);
    expect(await allCounterRows(h.store)).toEqual(countersBefore);

    const real = await acme().customers.import({ customers: SECOND_BATCH });
    expect(real).toEqual({ ...dry, dryRun: false });
    expect(real).toEqual({
      dryRun: false,
      created: 3,
      updated: 2,
      unchanged: 1,
      preBound: 2,
      // fresh2 shares its email with s2 (s1, its other twin, is pre-bound by this very batch).
      unresolved: { awaiting_first_session: 3, no_email: 0, email_shared: 1, binding_undone: 0 },
    });
    expect(await allCustomerRows(h.store)).not.toEqual(rowsBefore);
    expect(await expectCounterConsistent(h)).toBe(7);
  });

  it("on an empty database stores nothing, not even a counter row", async () => {
    const dry = await acme().customers.import({ customers: FIRST_BATCH, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, created: 7, preBound: 1 });
    expect(await allCustomerRows(h.store)).toEqual([]);
    expect(await allCounterRows(h.store)).toEqual([]);
    const created = await acme().sessionTokens.create({ externalUserId: "user_1" });
    expect(created.unresolvedCustomers).toBeUndefined();
  });
});

describe("customers.import: rejected batches store nothing", () => {
  async function expectNothingStored() {
    expect(await allCustomerRows(h.store)).toEqual([]);
    expect(await allCounterRows(h.store)).toEqual([]);
  }

  it("rejects a batch of 1001", async () => {
    // Rejected: a batch holds at most 1000 customers (MAX_IMPORT_BATCH).
    const rejection = await rejectionOf(
      acme().customers.import({ customers: stripeCustomers("big", MAX_IMPORT_BATCH + 1) }),
    );
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(rejection.data.fieldErrors).toHaveProperty("customers");
    expect(rejection.message).toContain("customers");
    await expectNothingStored();
  });

  it("rejects an empty batch", async () => {
    // Rejected: an import with no customer is a caller mistake, not a no-op.
    const rejection = await rejectionOf(acme().customers.import({ customers: [] }));
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(rejection.data.fieldErrors).toHaveProperty("customers");
  });

  it("rejects a batch whose fourth row has a bad Stripe id, naming customers.3.stripeCustomerId", async () => {
    const customers = [
      ...stripeCustomers("ok", 3),
      { ...stripeCustomer("bad"), stripeCustomerId: "xyz" },
      stripeCustomer("ok3"),
    ];
    // Rejected: "xyz" is not a Stripe customer id (cus_…); the whole batch is refused.
    const rejection = await rejectionOf(acme().customers.import({ customers }));
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(Object.keys(rejection.data.fieldErrors ?? {})).toEqual(["customers.3.stripeCustomerId"]);
    expect(rejection.message).toContain("customers.3.stripeCustomerId");
    await expectNothingStored();
  });

  it("rejects a row with an unknown field, naming it", async () => {
    const customers = [...stripeCustomers("ok", 3), { ...stripeCustomer("typo"), emial: "typo@example.com" }];
    // Rejected: strict rows; a misspelt field must not be silently dropped.
    const rejection = await rejectionOf(acme().customers.import(untyped({ customers })));
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(Object.keys(rejection.data.fieldErrors ?? {})).toEqual(["customers.3.emial"]);
    expect(rejection.message).toContain("customers.3.emial");
    await expectNothingStored();
  });

  it("rejects metadata values that are not strings, naming the row", async () => {
    const customers = [stripeCustomer("ok"), { ...stripeCustomer("meta"), metadata: { seats: 3 } }];
    // Rejected: Stripe metadata values are strings; a number means the file was not Stripe's.
    const rejection = await rejectionOf(acme().customers.import(untyped({ customers })));
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(
      Object.keys(rejection.data.fieldErrors ?? {}).some((field) => field.startsWith("customers.1.metadata")),
    ).toBe(true);
    await expectNothingStored();
  });

  it("rejects an unknown top-level field, and a dryRun that is not a boolean", async () => {
    // Rejected: "dryrun" (lower case) is a typo of dryRun and would otherwise write for real.
    const typo = await rejectionOf(
      acme().customers.import(untyped({ customers: [stripeCustomer("a")], dryrun: true })),
    );
    expect(typo.error.code).toBe("BAD_REQUEST");
    expect(typo.data.fieldErrors).toHaveProperty("dryrun");
    // Rejected: dryRun "yes" is not a boolean; guessing could write when the caller meant not to.
    const notBoolean = await rejectionOf(
      acme().customers.import(untyped({ customers: [stripeCustomer("a")], dryRun: "yes" })),
    );
    expect(notBoolean.data.fieldErrors).toHaveProperty("dryRun");
    await expectNothingStored();
  });

  it("rejects an import without a secret key", async () => {
    // Rejected: imports are merchant-API calls and need a secret key.
    const rejection = await rejectionOf(h.caller().customers.import({ customers: [stripeCustomer("a")] }));
    expect(rejection.error.code).toBe("UNAUTHORIZED");
    await expectNothingStored();
    expect(await counterOf(h.store, h.testKey)).toBe(0);
  });
});
