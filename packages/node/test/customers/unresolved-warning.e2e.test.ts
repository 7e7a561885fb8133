import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { type ServerHarness, startServerHarness } from "../server-harness.js";

let h: ServerHarness;
let warn: MockInstance<typeof console.warn>;
beforeEach(async () => {
  h = await startServerHarness();
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(async () => {
  warn.mockRestore();
  await h.close();
});

const UNRESOLVED = 7;

/** Imports UNRESOLVED customers awaiting their first session into Acme test. */
async function importUnresolved() {
  const report = await h.client(h.testKey.secretKey).importCustomers({
    customers: Array.from({ length: UNRESOLVED }, (_, i) => ({
      stripeCustomerId: `cus_W${i}`,
      email: `w${i}@example.com`,
    })),
  });
  expect(report.created).toBe(UNRESOLVED);
}

describe("the one-time unresolved-customers warning (SPEC §2)", () => {
  it("warns once per client instance when a token is created without email while customers wait", async () => {
    await importUnresolved();
    const billing = h.client(h.testKey.secretKey);

    const created = await billing.createSessionToken({ externalUserId: "user_1" });
    expect(created.unresolvedCustomers).toBe(UNRESOLVED);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = String(warn.mock.calls[0]![0]);
    expect(message).toContain(String(UNRESOLVED));
    expect(message).toContain("email");

    await billing.createSessionToken({ externalUserId: "user_2" });
    await billing.createSessionToken({ externalUserId: "user_3", expiresIn: 60 });
    expect(warn).toHaveBeenCalledTimes(1);

    // A new client instance is a new chance to notice: it warns again, once.
    const another = h.client(h.testKey.secretKey);
    await another.createSessionToken({ externalUserId: "user_4" });
    await another.createSessionToken({ externalUserId: "user_5" });
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[1]![0])).toContain(String(UNRESOLVED));
  });

  it("never warns when the token is created with email, even one that binds nothing", async () => {
    await importUnresolved();
    const billing = h.client(h.testKey.secretKey);
    const created = await billing.createSessionToken({ externalUserId: "user_1", email: "nobody@example.com" });
    expect(created.unresolvedCustomers).toBe(UNRESOLVED);
    await billing.createSessionToken({ externalUserId: "user_2", email: "w0@example.com" });
    expect(warn).not.toHaveBeenCalled();

    // Calls with email did not use up the instance's one warning.
    await billing.createSessionToken({ externalUserId: "user_3" });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain(String(UNRESOLVED - 1));
  });

  it("never warns when no customer is waiting", async () => {
    const billing = h.client(h.testKey.secretKey);
    const created = await billing.createSessionToken({ externalUserId: "user_1" });
    expect(created.unresolvedCustomers).toBeUndefined();

    // Customers that are all bound (here from metadata at import) leave nothing to warn about.
    await billing.importCustomers({
      customers: [{ stripeCustomerId: "cus_M1", email: "m@example.com", metadata: { userId: "user_m" } }],
    });
    const after = await billing.createSessionToken({ externalUserId: "user_2" });
    expect(after.unresolvedCustomers).toBeUndefined();
    expect(warn).not.toHaveBeenCalled();
  });

  it("never warns for a key whose environment has no waiting customer", async () => {
    await importUnresolved(); // into test
    await h.client(h.liveKey.secretKey).createSessionToken({ externalUserId: "user_1" });
    expect(warn).not.toHaveBeenCalled();
  });

  it("stops having a reason to warn once the last waiting customer is bound", async () => {
    const billing = h.client(h.testKey.secretKey);
    await billing.importCustomers({ customers: [{ stripeCustomerId: "cus_Last", email: "last@example.com" }] });
    const bound = await billing.createSessionToken({ externalUserId: "user_last", email: "last@example.com" });
    expect(bound.unresolvedCustomers).toBeUndefined();
    await billing.createSessionToken({ externalUserId: "user_2" });
    expect(warn).not.toHaveBeenCalled();
  });
});
