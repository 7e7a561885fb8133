import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { BillingOSError, type CreateSessionTokenInput } from "../src/index.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";

// SPEC §6: `email` null is taken as "none", since next-auth types it `string | null`: a merchant
// passes `session.user.email` as it is, through this client, to the real server.

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

/** What next-auth hands a route: an email that may be null. */
interface NextAuthUser {
  id: string;
  email: string | null;
}

describe("createSessionToken with email: null", () => {
  it("typechecks with next-auth's `string | null`, creates a token with no email, as absent email does", async () => {
    const billing = h.client(h.testKey.secretKey);
    const user: NextAuthUser = { id: "user_null", email: null };
    const input: CreateSessionTokenInput = { externalUserId: user.id, email: user.email };
    const created = await billing.createSessionToken(input);
    expect(created.sessionToken.startsWith("bos_session_test_")).toBe(true);
    const verified = await billing.verifySessionToken(created.sessionToken);
    expect(verified).toMatchObject({ valid: true, customer: { externalUserId: "user_null", email: null } });
  });

  it("binds nobody and warns about waiting customers, exactly as without email", async () => {
    const billing = h.client(h.testKey.secretKey);
    await billing.importCustomers({ customers: [{ stripeCustomerId: "cus_N1", email: "n1@example.com" }] });
    const created = await billing.createSessionToken({ externalUserId: "user_null", email: null });
    expect(created.unresolvedCustomers).toBe(1);
    expect((await billing.getCustomer({ stripeCustomerId: "cus_N1" })).externalUserId).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("still refuses, before sending, any other value that is not an address", async () => {
    const billing = h.client(h.testKey.secretKey);
    const refused = await billing
      .createSessionToken({ externalUserId: "u", email: "" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BillingOSError);
    expect((refused as BillingOSError).fieldErrors).toEqual({ email: ["email must be a valid email address"] });
  });
});
