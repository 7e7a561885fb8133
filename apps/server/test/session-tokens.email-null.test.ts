import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stripeCustomer, unboundCountOf } from "./customers/support.js";
import { countSessionTokens, createHarness, type Harness, rejectionOf } from "./harness.js";

// SPEC §6: "`email`: a valid address (`null` is taken as "none", since next-auth types it
// `string | null`)". A merchant passing `session.user.email` as it is must get a token, not a 400.

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);

describe("sessionTokens.create with email: null", () => {
  it("creates a token with no email, binds nobody, and answers as when email is absent", async () => {
    await acme().customers.import({ customers: [stripeCustomer("alice"), stripeCustomer("nomail", { email: null })] });

    const withNull = await acme().sessionTokens.create({ externalUserId: "user_null", email: null });
    const withoutEmail = await acme().sessionTokens.create({ externalUserId: "user_absent" });
    expect(await countSessionTokens(h.store)).toBe(2);

    // No binding attempted: both imported customers still await one, and both answers say so alike.
    expect(await unboundCountOf(h.store, h.testKey)).toBe(2);
    expect(withNull.unresolvedCustomers).toBe(withoutEmail.unresolvedCustomers);
    expect(withNull.unresolvedCustomers).toBe(2);

    const verified = await acme().sessionTokens.verify({ sessionToken: withNull.sessionToken });
    expect(verified).toMatchObject({
      valid: true,
      customer: { externalUserId: "user_null", externalOrganizationId: null, email: null },
    });
    const stored = await h.store.kysely
      .selectFrom("session_tokens")
      .select(["external_user_id", "email"])
      .orderBy("external_user_id")
      .execute();
    expect(stored).toEqual([
      { external_user_id: "user_absent", email: null },
      { external_user_id: "user_null", email: null },
    ]);
  });

  it('still refuses any other non-address: a number, an empty string, the string "null"', async () => {
    for (const email of [5, "", "null"]) {
      const rejection = await rejectionOf(acme().sessionTokens.create({ externalUserId: "u", email: email as string }));
      expect(rejection.error.code).toBe("BAD_REQUEST");
      expect(Object.keys(rejection.data.fieldErrors ?? {})).toEqual(["email"]);
    }
    expect(await countSessionTokens(h.store)).toBe(0);
  });
});
