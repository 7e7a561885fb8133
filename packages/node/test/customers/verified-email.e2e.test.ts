import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../../src/index.js";
import { NOWHERE, rejectionOf, type ServerHarness, startServerHarness } from "../server-harness.js";

// createSessionToken({ emailVerified }) through the node client over HTTP: `false` never binds.

let h: ServerHarness;
beforeEach(async () => {
  h = await startServerHarness();
});
afterEach(() => h.close());

describe("createSessionToken with emailVerified", () => {
  it("emailVerified: false leaves the customer unbound; true binds it", async () => {
    const billing = h.client(h.testKey.secretKey);
    await billing.importCustomers({ customers: [{ stripeCustomerId: "cus_A1", email: "ada@example.com" }] });
    const unverified = await billing.createSessionToken({
      externalUserId: "user_x",
      email: "ada@example.com",
      emailVerified: false,
    });
    expect(unverified.unresolvedCustomers).toBe(1);
    const verified = await billing.createSessionToken({
      externalUserId: "user_ada",
      email: "ada@example.com",
      emailVerified: true,
    });
    expect(verified).not.toHaveProperty("unresolvedCustomers");
    expect((await billing.getCustomer({ stripeCustomerId: "cus_A1" })).externalUserId).toBe("user_ada");
  });

  it("refuses a non-boolean emailVerified before sending, naming the field", async () => {
    const offline = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: NOWHERE, productionUrl: NOWHERE });
    const rejection = await rejectionOf(() =>
      // @ts-expect-error: emailVerified is a boolean
      offline.createSessionToken({ externalUserId: "u", emailVerified: "yes" }),
    );
    expect(rejection).toBeInstanceOf(BillingOSError);
    expect((rejection as BillingOSError).fieldErrors).toHaveProperty("emailVerified");
  });
});
