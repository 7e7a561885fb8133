import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../harness.js";
import { sessionCaller } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const acme = () => h.caller(h.testKey.secretKey);
const STRIPE_CREATED_AT = "2024-03-05T10:20:30.000Z";

const ada = {
  stripeCustomerId: "cus_Ada1",
  email: "ada@example.com",
  name: "Ada Lovelace",
  metadata: { plan: "pro", internal_note: "do not show a browser" },
  createdAt: STRIPE_CREATED_AT,
};

describe("session.customer and the bound Stripe customer", () => {
  it("shows the Stripe customer bound lazily by email: its id, email, name and createdAt, and nothing else", async () => {
    await acme().customers.import({ customers: [ada] });
    const { sessionToken } = await acme().sessionTokens.create({
      externalUserId: "user_ada",
      email: "ada@example.com",
      externalOrganizationId: "org_ada",
    });
    const view = await sessionCaller(h, sessionToken).session.customer();
    expect(view).toEqual({
      externalUserId: "user_ada",
      externalOrganizationId: "org_ada",
      email: "ada@example.com",
      stripeCustomer: {
        stripeCustomerId: "cus_Ada1",
        email: "ada@example.com",
        name: "Ada Lovelace",
        createdAt: STRIPE_CREATED_AT,
      },
    });
    // Exactly these keys: no metadata, no binding internals, no environment.
    expect(Object.keys(view.stripeCustomer ?? {}).sort()).toEqual(["createdAt", "email", "name", "stripeCustomerId"]);
    expect(JSON.stringify(view)).not.toContain("do not show a browser");
    // The merchant, by contrast, sees the binding.
    expect(await acme().customers.get({ externalUserId: "user_ada" })).toMatchObject({
      boundBy: "email",
      metadata: ada.metadata,
    });
  });

  it("is null when no Stripe customer is bound to the user", async () => {
    await acme().customers.import({ customers: [ada] });
    const { sessionToken } = await acme().sessionTokens.create({
      externalUserId: "user_bob",
      email: "bob@example.com",
    });
    expect(await sessionCaller(h, sessionToken).session.customer()).toEqual({
      externalUserId: "user_bob",
      externalOrganizationId: null,
      email: "bob@example.com",
      stripeCustomer: null,
    });
  });

  it("appears on an older token once a later token's email binds it (read live, not at token creation)", async () => {
    await acme().customers.import({ customers: [ada] });
    const first = await acme().sessionTokens.create({ externalUserId: "user_ada" });
    expect((await sessionCaller(h, first.sessionToken).session.customer()).stripeCustomer).toBeNull();
    await acme().sessionTokens.create({ externalUserId: "user_ada", email: "ada@example.com" });
    expect((await sessionCaller(h, first.sessionToken).session.customer()).stripeCustomer).toMatchObject({
      stripeCustomerId: "cus_Ada1",
    });
  });

  it("shows a customer pre-bound at import by metadata, and a null name and createdAt as null", async () => {
    await acme().customers.import({
      customers: [{ stripeCustomerId: "cus_Pre1", email: null, metadata: { external_id: "user_pre" } }],
    });
    const { sessionToken } = await acme().sessionTokens.create({ externalUserId: "user_pre" });
    expect((await sessionCaller(h, sessionToken).session.customer()).stripeCustomer).toEqual({
      stripeCustomerId: "cus_Pre1",
      email: null,
      name: null,
      createdAt: null,
    });
  });

  it("stays null when the email is shared by two imported customers (none is bound)", async () => {
    await acme().customers.import({
      customers: [
        { stripeCustomerId: "cus_Twin1", email: "twin@example.com" },
        { stripeCustomerId: "cus_Twin2", email: "twin@example.com" },
      ],
    });
    const { sessionToken } = await acme().sessionTokens.create({
      externalUserId: "user_twin",
      email: "twin@example.com",
    });
    expect((await sessionCaller(h, sessionToken).session.customer()).stripeCustomer).toBeNull();
  });

  it("never shows another organization's or the other environment's customer bound to the same user id", async () => {
    const globex = h.caller(h.otherOrgKey.secretKey);
    const acmeLive = h.caller(h.liveKey.secretKey);
    await globex.customers.import({
      customers: [{ stripeCustomerId: "cus_Globex", metadata: { external_id: "user_1" } }],
    });
    await acmeLive.customers.import({
      customers: [{ stripeCustomerId: "cus_AcmeLive", metadata: { external_id: "user_1" } }],
    });
    const test = await acme().sessionTokens.create({ externalUserId: "user_1" });
    expect((await sessionCaller(h, test.sessionToken).session.customer()).stripeCustomer).toBeNull();
    // The live token of the same organization sees its own environment's customer, which shows the lookup works.
    const live = await acmeLive.sessionTokens.create({ externalUserId: "user_1" });
    expect((await sessionCaller(h, live.sessionToken).session.customer()).stripeCustomer).toMatchObject({
      stripeCustomerId: "cus_AcmeLive",
    });
  });
});
