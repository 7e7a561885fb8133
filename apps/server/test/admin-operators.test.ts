import { describe, expect, it } from "vitest";
import { authenticateSecretKey } from "../src/api-keys/api-keys.service.js";
import { importCustomers } from "../src/customers/customers.service.js";
import { verifySessionToken } from "../src/session-tokens/session-tokens.check.js";
import { createSessionToken } from "../src/session-tokens/session-tokens.create.js";
import { systemClock } from "../src/shared/clock.js";
import { openSqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { adminCliOnFreshDatabase } from "./support/admin-cli-harness.js";

// Operators: organizations are made on purpose and named exactly (a near miss is refused, never a
// second organization), and a customer can be looked up and acted on without writing code.

const { admin, databasePath } = adminCliOnFreshDatabase("billingos-operators-");

async function organizationNames(): Promise<string[]> {
  const db = await openSqliteStore({ path: databasePath() });
  try {
    return (await db.kysely.selectFrom("organizations").select("name").orderBy("name").execute()).map(
      (row) => row.name,
    );
  } finally {
    await db.close();
  }
}

describe("admin orgs", () => {
  it("orgs create gives an organization an id; orgs list shows it", async () => {
    const created = await admin("orgs", "create", "Example");
    expect(created.code).toBe(0);
    expect(created.lastLine).toMatch(/^org_[0-9a-z]{26}$/);
    const listed = await admin("orgs", "list");
    expect(listed.out).toEqual([
      expect.stringMatching(new RegExp(`^${created.lastLine} {2}"Example" {2}created \\S+$`)),
    ]);
  });

  it.each(["example", "example ", "  EXAMPLE", "eXaMpLe", "example\t"])(
    'refuses %j beside "Example": it differs only in case or spaces',
    async (name) => {
      await admin("orgs", "create", "Example");
      const refused = await admin("orgs", "create", name);
      expect(refused.code).toBe(1);
      expect(refused.err.join("\n")).toMatch(/"Example" \(org_\w+\)/);
      const key = await admin("keys", "create", "--org", name, "--create-org", "--env", "test");
      expect(key.code).toBe(1);
      expect(key.err.join("\n")).toMatch(/did you mean "Example" \(org_\w+\)\?/);
      expect(await organizationNames()).toEqual(["Example"]);
    },
  );

  it("keys create takes an existing organization, by exact name or id, and creates none", async () => {
    const unknown = await admin("keys", "create", "--org", "Acme", "--env", "test");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toEqual([
      expect.stringMatching(/^No organization named "Acme"; create it with: pnpm admin orgs create "Acme"/),
    ]);
    expect(await organizationNames()).toEqual([]);

    const id = (await admin("orgs", "create", "Acme")).lastLine;
    const byName = await admin("keys", "create", "--org", "Acme", "--env", "test");
    expect(byName.code).toBe(0);
    expect(byName.out[0]).toMatch(new RegExp(`^Created test key key_\\w+ for organization "Acme" \\(${id}\\)\\.$`));
    const byId = await admin("keys", "create", "--org", id, "--env", "live");
    expect(byId.code).toBe(0);
    expect(byId.lastLine).toMatch(/^sk_live_/);
    const unknownId = await admin(
      "keys",
      "create",
      "--org",
      "org_0000000000000000000000000z",
      "--create-org",
      "--env",
      "test",
    );
    expect(unknownId.code).toBe(1);
    expect(await organizationNames()).toEqual(["Acme"]);
  });

  it("exit code 2 for a wrong command line, 0 for help", async () => {
    expect((await admin("orgs", "create")).code).toBe(2);
    expect((await admin("orgs", "frobnicate")).code).toBe(2);
    expect((await admin("customers", "tokens", "--org", "Acme", "--env", "test")).code).toBe(2);
    expect(
      (await admin("customers", "tokens", "--org", "Acme", "--env", "test", "--user", "u", "--limit", "0")).code,
    ).toBe(2);
    expect((await admin("--help")).code).toBe(0);
  });
});

describe("admin customers: look up and act on a customer", () => {
  /** Acme test: user_1 with two tokens and cus_a bound by email; cus_b and cus_c unresolved. */
  async function seed() {
    await admin("orgs", "create", "Acme");
    const secretKey = (await admin("keys", "create", "--org", "Acme", "--env", "test")).lastLine;
    const db = await openSqliteStore({ path: databasePath() });
    const key = await authenticateSecretKey(db, `Bearer ${secretKey}`);
    const deps = { store: db, clock: systemClock };
    await importCustomers(deps, key, {
      customers: [
        { stripeCustomerId: "cus_a", email: "a@example.com", name: "Ada" },
        { stripeCustomerId: "cus_b", email: "b@example.com" },
        { stripeCustomerId: "cus_c" },
      ],
    });
    const first = await createSessionToken(deps, key, { externalUserId: "user_1", email: "a@example.com" });
    const second = await createSessionToken(deps, key, {
      externalUserId: "user_1",
      allowedOperations: ["customer:read"],
    });
    const other = await createSessionToken(deps, key, { externalUserId: "user_2" });
    await db.close();
    return { secretKey, tokens: [first, second], other };
  }

  it("shows the customer's binding, by Stripe id or by user", async () => {
    await seed();
    for (const by of [
      ["--stripe-customer", "cus_a"],
      ["--user", "user_1"],
    ]) {
      const shown = await admin("customers", "show", "--org", "Acme", "--env", "test", ...by);
      expect(shown.code).toBe(0);
      expect(shown.out[0]).toBe("stripe customer: cus_a (test)");
      expect(shown.out).toContain("email:           a@example.com");
      expect(shown.out.find((line) => line.startsWith("bound to:"))).toMatch(
        /^bound to: +user "user_1" \(email, \S+\)$/,
      );
    }
    const missing = await admin("customers", "show", "--org", "Acme", "--env", "live", "--stripe-customer", "cus_a");
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual(["No imported customer cus_a in the live environment"]);
    expect((await admin("customers", "show", "--org", "Acme", "--env", "test")).code).toBe(2);
  });

  it("lists a customer's tokens, revokes them all, and the trail shows who did", async () => {
    const { secretKey, tokens, other } = await seed();
    const listed = await admin("customers", "tokens", "--org", "Acme", "--env", "test", "--user", "user_1");
    expect(listed.out.map((line) => line.split("  ").slice(0, 2))).toEqual([
      [tokens[1]!.tokenId, "active"],
      [tokens[0]!.tokenId, "active"],
    ]);
    expect(listed.out[0]).toMatch(/operations customer:read$/);
    expect(listed.out.join("\n")).not.toContain(tokens[0]!.sessionToken);

    const revoked = await admin("customers", "revoke-tokens", "--org", "Acme", "--env", "test", "--user", "user_1");
    expect(revoked.code).toBe(0);
    expect(revoked.lastLine).toMatch(/^Revoked 2 session token\(s\) of user "user_1" at \S+\.$/);

    const db = await openSqliteStore({ path: databasePath() });
    const key = await authenticateSecretKey(db, `Bearer ${secretKey}`);
    for (const token of tokens) {
      expect(await verifySessionToken({ store: db, clock: systemClock }, key, token.sessionToken)).toEqual({
        valid: false,
        reason: "revoked",
      });
    }
    // Another customer's token is untouched.
    expect(await verifySessionToken({ store: db, clock: systemClock }, key, other.sessionToken)).toMatchObject({
      valid: true,
    });
    await db.close();

    expect((await admin("customers", "tokens", "--org", "Acme", "--env", "test", "--user", "user_1")).lastLine).toBe(
      'No active session tokens for user "user_1".',
    );
    const all = await admin("customers", "tokens", "--org", "Acme", "--env", "test", "--user", "user_1", "--all");
    expect(all.out.map((line) => line.split("  ")[1])).toEqual(["revoked", "revoked"]);

    const audit = await admin("customers", "audit", "--org", "Acme", "--env", "test", "--user", "user_1");
    expect(audit.code).toBe(0);
    const actions = audit.out.map((line) => line.split("  ").slice(1, 2)[0]);
    expect(actions.filter((action) => action === "session_token.revoked_for_customer")).toHaveLength(2);
    expect(actions).toContain("customer.bound");
    expect(audit.out.find((line) => line.includes("revoked_for_customer"))).toMatch(/by operator$/);
  });

  it("lists unresolved customers with their reason, optionally of one reason", async () => {
    await seed();
    const all = await admin("customers", "unresolved", "--org", "Acme", "--env", "test");
    expect(all.out.map((line) => line.split("  ").slice(0, 2))).toEqual([
      ["cus_b", "awaiting_first_session"],
      ["cus_c", "no_email"],
    ]);
    const noEmail = await admin("customers", "unresolved", "--org", "Acme", "--env", "test", "--reason", "no_email");
    expect(noEmail.out).toEqual(["cus_c  no_email  -  -"]);
    const wrong = await admin("customers", "unresolved", "--org", "Acme", "--env", "test", "--reason", "lost");
    expect(wrong.code).toBe(2);
    expect(wrong.err.join("\n")).toMatch(
      /Allowed choices are awaiting_first_session, no_email, email_shared, binding_undone/,
    );
  });
});
