import type { Store } from "@billingos/server";
import { afterEach, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../../src/index.js";
import { NOWHERE, rejectionOf, type ServerHarness, startServerHarness } from "../server-harness.js";
import { type FileServers, startFileServers, startServerChild } from "./file-server.js";

// Issue item 9 through the node client over real HTTP: unbindCustomer, and bindCustomer with
// rebind, typed end to end; and an unbind racing token creations on another server process.

let h: ServerHarness | undefined;
let servers: FileServers | undefined;
let stopChild: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopChild?.();
  stopChild = undefined;
  await servers?.close();
  servers = undefined;
  await h?.close();
  h = undefined;
});

async function counterMatchesUnbound(db: Store): Promise<{ counter: number; unbound: number }> {
  const counter = await db.kysely.selectFrom("customer_binding_counts").select("unresolved_count").executeTakeFirst();
  const unbound = await db.kysely
    .selectFrom("imported_customers")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("external_user_id", "is", null)
    .executeTakeFirstOrThrow();
  return { counter: Number(counter?.unresolved_count ?? 0), unbound: Number(unbound.n) };
}

describe("BillingOS.unbindCustomer", () => {
  it("undoes a wrong lazy binding; the customer then waits for a bind by hand, and moves with rebind", async () => {
    h = await startServerHarness();
    const billing = h.client(h.testKey.secretKey);
    await billing.importCustomers({ customers: [{ stripeCustomerId: "cus_A1", email: "ada@example.com" }] });
    await billing.createSessionToken({ externalUserId: "user_wrong", email: "ada@example.com" });

    const unbound = await billing.unbindCustomer("cus_A1");
    expect(unbound).toMatchObject({ stripeCustomerId: "cus_A1", externalUserId: null, boundAt: null, boundBy: null });
    expect(unbound.importedAt).toBeInstanceOf(Date);
    const page = await billing.listUnresolvedCustomers({ reason: "binding_undone" });
    expect(page.data.map((c) => c.stripeCustomerId)).toEqual(["cus_A1"]);

    // The same user signing in again does not take it back.
    const again = await billing.createSessionToken({ externalUserId: "user_wrong", email: "ada@example.com" });
    expect(again.unresolvedCustomers).toBe(1);
    // Unbinding again returns it as it is.
    expect(await billing.unbindCustomer("cus_A1")).toEqual(unbound);

    const right = await billing.bindCustomer({ stripeCustomerId: "cus_A1", externalUserId: "user_right" });
    expect(right).toMatchObject({ externalUserId: "user_right", boundBy: "manual" });
    expect(right.boundAt).toBeInstanceOf(Date);
    const moved = await billing.bindCustomer({
      stripeCustomerId: "cus_A1",
      externalUserId: "user_final",
      rebind: true,
    });
    expect(moved.externalUserId).toBe("user_final");
    expect(await billing.createSessionToken({ externalUserId: "user_z" })).not.toHaveProperty("unresolvedCustomers");
  });

  it("refuses a malformed Stripe id before sending, with the server's message; an unknown one with NOT_FOUND", async () => {
    h = await startServerHarness();
    // Pointed where nothing listens: what it throws was decided before sending.
    const offline = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: NOWHERE, productionUrl: NOWHERE });
    const invalid = await rejectionOf(() => offline.unbindCustomer("user_1"));
    expect(invalid).toBeInstanceOf(BillingOSError);
    expect(invalid).toMatchObject({ code: "BAD_REQUEST" });
    expect((invalid as BillingOSError).fieldErrors).toHaveProperty("stripeCustomerId");

    const billing = h.client(h.testKey.secretKey);
    const missing = await rejectionOf(() => billing.unbindCustomer("cus_Nope"));
    expect(missing).toMatchObject({ code: "NOT_FOUND", httpStatus: 404 });
  });

  it("unbinds through one server process while another creates tokens that bind lazily: the counter stays exact", async () => {
    servers = await startFileServers(1);
    const key = servers.testKey.secretKey;
    const local = servers.instances[0]!.client(key);
    const child = await startServerChild(servers.databaseEnv);
    stopChild = child.stop;
    const remote = new BillingOS({ secretKey: key, sandboxUrl: child.url, productionUrl: child.url });

    const n = 12;
    const wrong = Array.from({ length: n }, (_, i) => ({ stripeCustomerId: `cus_W${i}`, email: `w${i}@example.com` }));
    const fresh = Array.from({ length: n }, (_, i) => ({ stripeCustomerId: `cus_F${i}`, email: `f${i}@example.com` }));
    await local.importCustomers({ customers: [...wrong, ...fresh] });
    for (const [i, customer] of wrong.entries())
      await remote.createSessionToken({ externalUserId: `user_w${i}`, email: customer.email });

    await Promise.all([
      ...wrong.map((customer) => local.unbindCustomer(customer.stripeCustomerId)),
      ...fresh.map((customer, i) => remote.createSessionToken({ externalUserId: `user_f${i}`, email: customer.email })),
      ...wrong.map((customer, i) => remote.createSessionToken({ externalUserId: `user_w${i}`, email: customer.email })),
    ]);

    const db = servers.instances[0]!.db;
    const rows = await db.kysely
      .selectFrom("imported_customers")
      .select(["stripe_customer_id", "external_user_id"])
      .execute();
    for (const row of rows) {
      expect(row.external_user_id, row.stripe_customer_id).toBe(
        row.stripe_customer_id.startsWith("cus_W") ? null : `user_f${row.stripe_customer_id.slice(5)}`,
      );
    }
    const { counter, unbound } = await counterMatchesUnbound(db);
    expect(counter).toBe(n);
    expect(unbound).toBe(n);
  }, 60_000);
});
