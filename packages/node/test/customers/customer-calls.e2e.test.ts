import { MAX_IMPORT_BATCH } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../../src/index.js";
import { NOWHERE, rejectionOf, type ServerHarness, startServerHarness } from "../server-harness.js";

let h: ServerHarness;
beforeEach(async () => {
  h = await startServerHarness();
});
afterEach(() => h.close());

/** A client whose every request would fail to connect: what it throws was decided before sending. */
const offline = (secretKey: string) => new BillingOS({ secretKey, sandboxUrl: NOWHERE, productionUrl: NOWHERE });

async function storedCustomers(): Promise<number> {
  const row = await h.db.kysely
    .selectFrom("imported_customers")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("the node client's customer calls over HTTP", () => {
  it("imports, lists, binds lazily and by hand, and gets, with Dates in the answers", async () => {
    const billing = h.client(h.testKey.secretKey);
    const report = await billing.importCustomers({
      customers: [
        { stripeCustomerId: "cus_A1", email: "a@example.com", name: "A", createdAt: "2024-01-02T03:04:05.000Z" },
        { stripeCustomerId: "cus_B1", email: "b@example.com", metadata: { external_id: "user_b" } },
        { stripeCustomerId: "cus_C1" },
      ],
    });
    expect(report).toEqual({
      dryRun: false,
      created: 3,
      updated: 0,
      unchanged: 0,
      preBound: 1,
      unresolved: { awaiting_first_session: 1, no_email: 1, email_shared: 0, binding_undone: 0 },
    });

    const page = await billing.listUnresolvedCustomers({ limit: 1 });
    expect(page.data.map((c) => [c.stripeCustomerId, c.reason])).toEqual([["cus_A1", "awaiting_first_session"]]);
    expect(page.data[0]!.importedAt).toBeInstanceOf(Date);
    expect(page.data[0]!.createdAt).toEqual(new Date("2024-01-02T03:04:05.000Z"));
    const next = await billing.listUnresolvedCustomers({ limit: 1, cursor: page.nextCursor! });
    expect(next.data.map((c) => [c.stripeCustomerId, c.reason])).toEqual([["cus_C1", "no_email"]]);
    expect(next.nextCursor).toBeNull();

    const created = await billing.createSessionToken({ externalUserId: "user_a", email: "A@example.com" });
    expect(created.unresolvedCustomers).toBe(1);
    const a = await billing.getCustomer({ externalUserId: "user_a" });
    expect(a).toMatchObject({ stripeCustomerId: "cus_A1", boundBy: "email" });
    expect(a.boundAt).toBeInstanceOf(Date);

    const c = await billing.bindCustomer({ stripeCustomerId: "cus_C1", externalUserId: "user_c" });
    expect(c).toMatchObject({ externalUserId: "user_c", boundBy: "manual" });
    expect((await billing.getCustomer({ stripeCustomerId: "cus_B1" })).boundBy).toBe("metadata");
    expect(await billing.createSessionToken({ externalUserId: "user_z" })).not.toHaveProperty("unresolvedCustomers");
  });

  it("throws typed CONFLICT and NOT_FOUND errors", async () => {
    const billing = h.client(h.testKey.secretKey);
    await billing.importCustomers({ customers: [{ stripeCustomerId: "cus_A1" }, { stripeCustomerId: "cus_B1" }] });
    await billing.bindCustomer({ stripeCustomerId: "cus_A1", externalUserId: "user_a" });

    // Rejected: cus_A1 is already bound to user_a.
    const conflict = await rejectionOf(() =>
      billing.bindCustomer({ stripeCustomerId: "cus_A1", externalUserId: "user_x" }),
    );
    expect(conflict).toBeInstanceOf(BillingOSError);
    expect(conflict).toMatchObject({ code: "CONFLICT", httpStatus: 409 });
    expect((conflict as BillingOSError).message).toContain("user_a");

    // Rejected: user_a already has cus_A1.
    const userTaken = await rejectionOf(() =>
      billing.bindCustomer({ stripeCustomerId: "cus_B1", externalUserId: "user_a" }),
    );
    expect(userTaken).toMatchObject({ code: "CONFLICT" });

    // Rejected: nothing was imported as cus_Nope.
    const missing = await rejectionOf(() => billing.getCustomer({ stripeCustomerId: "cus_Nope" }));
    expect(missing).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
  });

  it("refuses a batch of 1001 before sending it, naming the field", async () => {
    const customers = Array.from({ length: MAX_IMPORT_BATCH + 1 }, (_, i) => ({ stripeCustomerId: `cus_X${i}` }));
    // Rejected: at most 1000 customers per batch; the client says so without a round trip.
    const error = await rejectionOf(() => offline(h.testKey.secretKey).importCustomers({ customers }));
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect((error as BillingOSError).fieldErrors).toHaveProperty("customers");
    expect(await storedCustomers()).toBe(0);
  });

  it("refuses a bad row before sending it, naming customers.3.stripeCustomerId as the server would", async () => {
    const customers = [
      { stripeCustomerId: "cus_A1" },
      { stripeCustomerId: "cus_A2" },
      { stripeCustomerId: "cus_A3" },
      { stripeCustomerId: "xyz" },
    ];
    // Rejected: "xyz" is not a Stripe customer id.
    const error = await rejectionOf(() => offline(h.testKey.secretKey).importCustomers({ customers }));
    expect(error).toMatchObject({ code: "BAD_REQUEST" });
    expect(Object.keys((error as BillingOSError).fieldErrors)).toEqual(["customers.3.stripeCustomerId"]);
  });

  it("an oversized batch (valid per row, over the body limit) is refused whole, nothing stored", async () => {
    // 1000 customers with ~2 KiB of metadata each: every row is valid, the request body is ~2 MB.
    const customers = Array.from({ length: MAX_IMPORT_BATCH }, (_, i) => ({
      stripeCustomerId: `cus_Big${i}`,
      email: `big${i}@example.com`,
      metadata: { notes: "n".repeat(2_000) },
    }));
    // Rejected: the request body exceeds the server's size limit (1 MiB by default).
    const error = await rejectionOf(() => h.client(h.testKey.secretKey).importCustomers({ customers }));
    expect(error).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(await storedCustomers()).toBe(0);
  });
});
