import type { Environment } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Caller,
  callerWith,
  createTenants,
  expectRefused,
  expectTableCoversRouter,
  PROCEDURE_PATHS,
  scopeSnapshot,
  type TenantName,
  type Tenants,
} from "./support.js";

// SPEC §3: "Test and live never see each other's tokens or customers", and no organization sees
// another's. The matrix: the data of organization A in the test environment, probed through EVERY
// procedure of the router (read from appRouter, so a new procedure fails until it has a row here)
// by A/live, B/test and B/live. Each probe must be refused or see nothing, and afterwards every
// A/test row is byte-for-byte what it was and A's token still verifies. The owner's own call is run
// too, as the control that shows each probe can succeed.

const INTRUDERS = ["A/live", "B/test", "B/live"] as const;
type Intruder = (typeof INTRUDERS)[number];

interface World {
  t: Tenants;
  /** A/test's token for user_1 (customer cus_aBound is bound to user_1; cus_aFree awaits a bind). */
  a: { tokenId: string; sessionToken: string };
  caller(tenant: TenantName): Caller;
  environmentOf(tenant: TenantName): Environment;
  /** A browser call with `Authorization: Bearer <sessionToken>` on a deployment serving only `environments`. */
  session(sessionToken: string, environments: readonly Environment[]): Caller;
  /** A session token of the intruder's own, for the same user id as A's. */
  intruderToken(who: Intruder): Promise<string>;
}

interface IsolationProbe {
  /** The owner (A/test) reaches its own data: the control. */
  owner(w: World): Promise<void>;
  /** The intruder is refused, or sees nothing of A/test's. */
  intruder(w: World, who: Intruder): Promise<void>;
}

/** What verify says of A/test's token to a key of another scope: unknown in its own environment, the wrong one otherwise. */
const verifyReasonFor = (w: World, who: Intruder) =>
  w.environmentOf(who) === "test" ? "not_found" : "wrong_environment";

/**
 * How to call each procedure with another tenant's ids. A procedure of the router without a row
 * here makes the coverage test (and its own matrix row) fail with a message naming this table.
 */
const PROBES: Record<string, IsolationProbe> = {
  "sessionTokens.create": {
    async owner(w) {
      await w.caller("A/test").sessionTokens.create({ externalUserId: "user_2", email: "free@example.com" });
      // Lazy binding works for the owner: its own unbound customer with that email is now user_2's.
      expect((await w.caller("A/test").customers.get({ externalUserId: "user_2" })).stripeCustomerId).toBe("cus_aFree");
    },
    async intruder(w, who) {
      // The same user id, organization id and the email of A's unbound customer.
      const created = await w
        .caller(who)
        .sessionTokens.create({ externalUserId: "user_2", email: "free@example.com", externalOrganizationId: "org_1" });
      // A's customers awaiting a bind are not counted for the intruder…
      expect(created.unresolvedCustomers).toBeUndefined();
      // …nor bound by it (the snapshot check proves cus_aFree untouched), nor bound in its own scope.
      await expectRefused(w.caller(who).customers.get({ externalUserId: "user_2" }), ["NOT_FOUND"]);
      // The intruder's token does not exist for A.
      const seenByA = await w.caller("A/test").sessionTokens.verify({ sessionToken: created.sessionToken });
      expect(seenByA).toEqual({
        valid: false,
        reason: w.environmentOf(who) === "test" ? "not_found" : "wrong_environment",
      });
      expect((await w.caller("A/test").sessionTokens.list({ externalUserId: "user_2" })).data).toEqual([]);
    },
  },

  "sessionTokens.verify": {
    async owner(w) {
      const verified = await w.caller("A/test").sessionTokens.verify({ sessionToken: w.a.sessionToken });
      expect(verified.valid && verified.tokenId).toBe(w.a.tokenId);
    },
    async intruder(w, who) {
      // Refused: another scope's token is unknown (same environment) or of the wrong environment, never valid.
      for (const operation of [undefined, "customer:read"] as const) {
        const verified = await w
          .caller(who)
          .sessionTokens.verify({ sessionToken: w.a.sessionToken, ...(operation ? { operation } : {}) });
        expect(verified).toEqual({ valid: false, reason: verifyReasonFor(w, who) });
      }
    },
  },

  "sessionTokens.revoke": {
    async owner(w) {
      await w.caller("A/test").sessionTokens.revoke({ tokenId: w.a.tokenId });
      expect(await w.caller("A/test").sessionTokens.verify({ sessionToken: w.a.sessionToken })).toEqual({
        valid: false,
        reason: "revoked",
      });
    },
    async intruder(w, who) {
      // Refused: A's token id does not exist in the intruder's scope.
      await expectRefused(w.caller(who).sessionTokens.revoke({ tokenId: w.a.tokenId }), ["NOT_FOUND"]);
      // Refused: the token itself is unknown there (same environment) or belongs to another environment.
      await expectRefused(
        w.caller(who).sessionTokens.revoke({ sessionToken: w.a.sessionToken }),
        w.environmentOf(who) === "test" ? ["NOT_FOUND"] : ["BAD_REQUEST"],
      );
    },
  },

  "sessionTokens.list": {
    async owner(w) {
      const page = await w.caller("A/test").sessionTokens.list({ externalUserId: "user_1" });
      expect(page.data.map((token) => token.tokenId)).toEqual([w.a.tokenId]);
    },
    async intruder(w, who) {
      // Sees nothing: A's tokens for user_1 are not in the intruder's scope, whatever the filter or cursor.
      for (const input of [
        { externalUserId: "user_1" },
        { externalUserId: "user_1", status: "active" as const },
        { externalUserId: "user_1", cursor: `tok_${"z".repeat(26)}` },
      ]) {
        expect(await w.caller(who).sessionTokens.list(input)).toEqual({ data: [], nextCursor: null });
      }
    },
  },

  "sessionTokens.revokeForCustomer": {
    async owner(w) {
      expect(
        (await w.caller("A/test").sessionTokens.revokeForCustomer({ externalUserId: "user_1" })).revokedCount,
      ).toBe(1);
    },
    async intruder(w, who) {
      // Revokes nothing: neither by A's user id nor by A's customer organization id.
      expect((await w.caller(who).sessionTokens.revokeForCustomer({ externalUserId: "user_1" })).revokedCount).toBe(0);
      expect(
        (await w.caller(who).sessionTokens.revokeForCustomer({ externalOrganizationId: "org_1" })).revokedCount,
      ).toBe(0);
    },
  },

  "customers.import": {
    async owner(w) {
      const report = await w.caller("A/test").customers.import({
        customers: [{ stripeCustomerId: "cus_aFree", email: "free@example.com", name: "Renamed" }],
      });
      expect(report.updated).toBe(1);
    },
    async intruder(w, who) {
      // The same Stripe ids are new customers of the intruder's own: A's rows are neither updated nor read through.
      const report = await w.caller(who).customers.import({
        customers: [
          { stripeCustomerId: "cus_aFree", email: "free@example.com", metadata: { external_id: "user_1" } },
          { stripeCustomerId: "cus_aBound", email: "bound@example.com" },
        ],
      });
      expect(report).toMatchObject({ created: 2, updated: 0, unchanged: 0, preBound: 1 });
      const own = await w.caller(who).customers.get({ stripeCustomerId: "cus_aBound" });
      expect(own).toMatchObject({ environment: w.environmentOf(who), externalUserId: null, boundBy: null });
    },
  },

  "customers.listUnresolved": {
    async owner(w) {
      const page = await w.caller("A/test").customers.listUnresolved({});
      expect(page.data.map((customer) => customer.stripeCustomerId)).toEqual(["cus_aFree"]);
    },
    async intruder(w, who) {
      // Sees nothing of A's customers awaiting a bind.
      for (const reason of [
        undefined,
        "awaiting_first_session",
        "no_email",
        "email_shared",
        "binding_undone",
      ] as const) {
        expect(await w.caller(who).customers.listUnresolved(reason ? { reason } : {})).toEqual({
          data: [],
          nextCursor: null,
        });
      }
    },
  },

  "customers.bind": {
    async owner(w) {
      expect(
        (await w.caller("A/test").customers.bind({ stripeCustomerId: "cus_aFree", externalUserId: "user_3" }))
          .externalUserId,
      ).toBe("user_3");
    },
    async intruder(w, who) {
      // Refused: A's customers do not exist for the intruder: NOT_FOUND, not even a CONFLICT that would confirm them.
      await expectRefused(w.caller(who).customers.bind({ stripeCustomerId: "cus_aFree", externalUserId: "user_3" }), [
        "NOT_FOUND",
      ]);
      await expectRefused(w.caller(who).customers.bind({ stripeCustomerId: "cus_aBound", externalUserId: "user_1" }), [
        "NOT_FOUND",
      ]);
    },
  },

  "customers.unbind": {
    async owner(w) {
      expect((await w.caller("A/test").customers.unbind({ stripeCustomerId: "cus_aBound" })).externalUserId).toBeNull();
    },
    async intruder(w, who) {
      // Refused: A's bound customer does not exist for the intruder, bound or not.
      await expectRefused(w.caller(who).customers.unbind({ stripeCustomerId: "cus_aBound" }), ["NOT_FOUND"]);
      await expectRefused(w.caller(who).customers.unbind({ stripeCustomerId: "cus_aFree" }), ["NOT_FOUND"]);
      // Nor can it move A's binding to a user of its own choosing.
      await expectRefused(
        w.caller(who).customers.bind({ stripeCustomerId: "cus_aBound", externalUserId: "user_9", rebind: true }),
        ["NOT_FOUND"],
      );
    },
  },

  "customers.get": {
    async owner(w) {
      expect((await w.caller("A/test").customers.get({ stripeCustomerId: "cus_aBound" })).externalUserId).toBe(
        "user_1",
      );
      expect((await w.caller("A/test").customers.get({ externalUserId: "user_1" })).stripeCustomerId).toBe(
        "cus_aBound",
      );
    },
    async intruder(w, who) {
      // Refused: neither A's Stripe id nor A's binding of user_1 exists in the intruder's scope.
      await expectRefused(w.caller(who).customers.get({ stripeCustomerId: "cus_aBound" }), ["NOT_FOUND"]);
      await expectRefused(w.caller(who).customers.get({ externalUserId: "user_1" }), ["NOT_FOUND"]);
    },
  },

  "audit.listForCustomer": {
    async owner(w) {
      const actions = (await w.caller("A/test").audit.listForCustomer({ externalUserId: "user_1" })).data.map(
        (event) => event.action,
      );
      expect(actions).toEqual(expect.arrayContaining(["session_token.created", "customer.bound"]));
    },
    async intruder(w, who) {
      // Sees nothing of A's audit trail for user_1.
      expect(await w.caller(who).audit.listForCustomer({ externalUserId: "user_1" })).toEqual({
        data: [],
        nextCursor: null,
      });
    },
  },

  "session.get": {
    async owner(w) {
      const current = await w.session(w.a.sessionToken, ["test"]).session.get();
      expect(current).toMatchObject({ tokenId: w.a.tokenId, environment: "test" });
    },
    async intruder(w, who) {
      await expectCrossEnvironmentRefusals(w, who, (caller) => caller.session.get());
      // On its own environment's deployment, the intruder's token shows its own session only.
      const current = await w.session(await w.intruderToken(who), [w.environmentOf(who)]).session.get();
      expect(current.tokenId).not.toBe(w.a.tokenId);
      expect(current.environment).toBe(w.environmentOf(who));
    },
  },

  "session.customer": {
    async owner(w) {
      const view = await w.session(w.a.sessionToken, ["test"]).session.customer();
      expect(view).toMatchObject({
        externalUserId: "user_1",
        externalOrganizationId: "org_1",
        stripeCustomer: { stripeCustomerId: "cus_aBound" },
      });
    },
    async intruder(w, who) {
      await expectCrossEnvironmentRefusals(w, who, (caller) => caller.session.customer());
      // The same user id in the intruder's scope: A's bound Stripe customer is not shown.
      const view = await w.session(await w.intruderToken(who), [w.environmentOf(who)]).session.customer();
      expect(view).toMatchObject({ externalUserId: "user_1", stripeCustomer: null });
    },
  },

  "session.signOut": {
    async owner(w) {
      await w.session(w.a.sessionToken, ["test"]).session.signOut();
      expect(await w.caller("A/test").sessionTokens.verify({ sessionToken: w.a.sessionToken })).toEqual({
        valid: false,
        reason: "revoked",
      });
    },
    async intruder(w, who) {
      await expectCrossEnvironmentRefusals(w, who, (caller) => caller.session.signOut());
      // Signing out the intruder's own session revokes that one only (A's token is checked after the probe).
      const own = await w.intruderToken(who);
      await w.session(own, [w.environmentOf(who)]).session.signOut();
      expect((await w.caller(who).sessionTokens.verify({ sessionToken: own })).valid).toBe(false);
    },
  },
};

/**
 * Browser calls across environments: on a test-only deployment (A's), a live token is UNAUTHORIZED;
 * on a live-only deployment, A's test token is UNAUTHORIZED. (Same-environment intruders have no
 * cross-environment call to make; their own token is probed by the caller.)
 */
async function expectCrossEnvironmentRefusals(
  w: World,
  who: Intruder,
  call: (caller: Caller) => Promise<unknown>,
): Promise<void> {
  if (w.environmentOf(who) !== "live") return;
  // Refused: a live token on the sandbox deployment.
  await expectRefused(call(w.session(await w.intruderToken(who), ["test"])), ["UNAUTHORIZED"]);
  // Refused: A's test token on a production deployment.
  await expectRefused(call(w.session(w.a.sessionToken, ["live"])), ["UNAUTHORIZED"]);
}

let w: World;

beforeEach(async () => {
  const t = await createTenants();
  const acme = t.caller("A/test");
  await acme.customers.import({
    customers: [
      { stripeCustomerId: "cus_aBound", email: "bound@example.com", metadata: { external_id: "user_1" } },
      { stripeCustomerId: "cus_aFree", email: "free@example.com" },
    ],
  });
  const created = await acme.sessionTokens.create({
    externalUserId: "user_1",
    externalOrganizationId: "org_1",
    email: "user1@example.com",
  });
  w = {
    t,
    a: { tokenId: created.tokenId, sessionToken: created.sessionToken },
    caller: (tenant) => t.caller(tenant),
    environmentOf: (tenant) => t.keys[tenant].environment,
    session: (sessionToken, environments) => callerWith({ ...t.h.deps, environments }, `Bearer ${sessionToken}`),
    intruderToken: async (who) =>
      (await t.caller(who).sessionTokens.create({ externalUserId: "user_1", externalOrganizationId: "org_1" }))
        .sessionToken,
  };
});
afterEach(() => w.t.h.close());

describe("the isolation matrix covers the whole router", () => {
  it("every procedure of appRouter has a row in PROBES (isolation-matrix.test.ts)", () => {
    expectTableCoversRouter(PROBES, "PROBES of test/security/isolation-matrix.test.ts");
  });
});

describe.each(PROCEDURE_PATHS)("%s", (path) => {
  const probe = PROBES[path];

  it("A/test reaches its own data (the control)", async () => {
    if (probe === undefined)
      throw new Error(`No isolation probe for ${path}: add a row to PROBES in test/security/isolation-matrix.test.ts`);
    await probe.owner(w);
  });

  it.each(INTRUDERS)("%s cannot read, verify, list, revoke or bind A/test's data", async (who) => {
    if (probe === undefined)
      throw new Error(`No isolation probe for ${path}: add a row to PROBES in test/security/isolation-matrix.test.ts`);
    const scopeA = { organizationId: w.t.keys["A/test"].organizationId, environment: "test" as const };
    const before = await scopeSnapshot(w.t.h.store, scopeA);
    await probe.intruder(w, who);
    // Every A/test row (keys, tokens, customers, counters, audit events) is exactly as before the probe…
    expect(await scopeSnapshot(w.t.h.store, scopeA)).toEqual(before);
    // …and A's token still verifies and still opens A's session.
    const verified = await w.caller("A/test").sessionTokens.verify({ sessionToken: w.a.sessionToken });
    expect(verified.valid && verified.tokenId).toBe(w.a.tokenId);
    expect((await w.session(w.a.sessionToken, ["test"]).session.get()).tokenId).toBe(w.a.tokenId);
  });
});
