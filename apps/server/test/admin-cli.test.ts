import { parseToken } from "@billingos/contracts";
import { describe, expect, it } from "vitest";
import { authenticateSecretKey } from "../src/api-keys/api-keys.service.js";
import { importCustomers } from "../src/customers/customers.service.js";
import { verifySessionToken } from "../src/session-tokens/session-tokens.check.js";
import { createSessionToken } from "../src/session-tokens/session-tokens.create.js";
import { systemClock } from "../src/shared/clock.js";
import { migrations } from "../src/store/migrations/index.js";
import { openSqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { runEntry } from "./run-process.js";
import { adminCliOnFreshDatabase } from "./support/admin-cli-harness.js";

const { admin, databasePath } = adminCliOnFreshDatabase("billingos-admin-");

describe("admin CLI", () => {
  it("keys create prints the new key alone on the last line, for the environment asked", async () => {
    const test = await admin("keys", "create", "--org", "Acme", "--create-org", "--env", "test");
    expect(test.code).toBe(0);
    expect(parseToken(test.lastLine, "secretKey")).toEqual({ kind: "secretKey", environment: "test" });
    const live = await admin("keys", "create", "--org", "Acme", "--create-org", "--env", "live");
    expect(parseToken(live.lastLine, "secretKey")).toEqual({ kind: "secretKey", environment: "live" });
  });

  it("keys list shows every key with its organization and state, never the key itself", async () => {
    const created = await admin("keys", "create", "--org", "Acme", "--create-org", "--env", "test");
    const listed = await admin("keys", "list");
    expect(listed.code).toBe(0);
    expect(listed.out).toHaveLength(1);
    expect(listed.out[0]).toMatch(/^key_\w+ {2}Acme {2}test {2}sk_test_….{4} {2}created \S+ {2}active$/);
    expect(listed.out.join("\n")).not.toContain(created.lastLine);
  });

  it("keys revoke refuses the key from then on and revokes the tokens it created", async () => {
    const created = await admin("keys", "create", "--org", "Acme", "--create-org", "--env", "test");
    const other = await admin("keys", "create", "--org", "Acme", "--create-org", "--env", "test");
    const db = await openSqliteStore({ path: databasePath() });
    const key = await authenticateSecretKey(db, `Bearer ${created.lastLine}`);
    const token = await createSessionToken({ store: db, clock: systemClock }, key, { externalUserId: "user_1" });
    await db.close();

    const revoked = await admin("keys", "revoke", key.id);
    expect(revoked.code).toBe(0);
    expect(revoked.lastLine).toMatch(
      new RegExp(`^Revoked ${key.id} at .*; 1 session token\\(s\\) revoked with it\\.$`),
    );

    const after = await openSqliteStore({ path: databasePath() });
    await expect(authenticateSecretKey(after, `Bearer ${created.lastLine}`)).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    const otherKey = await authenticateSecretKey(after, `Bearer ${other.lastLine}`);
    expect(await verifySessionToken({ store: after, clock: systemClock }, otherKey, token.sessionToken)).toEqual({
      valid: false,
      reason: "revoked",
    });
    await after.close();
  });

  it("keys revoke of an unknown id fails with a message and exit code 1", async () => {
    const result = await admin("keys", "revoke", "key_nope");
    expect(result.code).toBe(1);
    expect(result.err).toEqual(["No API key key_nope"]);
  });

  it("migrate applies migrations once, then reports the database up to date", async () => {
    expect((await admin("migrate")).lastLine).toBe(`Applied: ${Object.keys(migrations).sort().join(", ")}`);
    expect((await admin("migrate")).lastLine).toBe("Database is up to date.");
  });

  // Operators' mistakes get usage help and a non-zero exit, never a stack trace.
  it.each([
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["keys", "create", "--org", "Acme"], /required option '--env <environment>' not specified/],
    [["keys", "create", "--org", "Acme", "--env", "staging"], /Allowed choices are test, live/],
    [["keys", "create", "--org", "   ", "--env", "test"], /organization name is 1–255 characters/],
    [["keys", "create", "--org", "Acme", "--env", "test", "--bogus"], /unknown option '--bogus'/],
    [["keys", "revoke"], /missing required argument 'id'/],
  ])("refuses %j with usage and exit code 2", async (argv, message) => {
    const result = await admin(...argv);
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toMatch(message);
    expect(result.err.join("\n")).toMatch(/Usage: admin/);
  });
});

describe("admin CLI: customers unbind and bind", () => {
  /** Acme test with cus_a bound lazily to user_wrong and cus_b unbound; returns the key. */
  async function seed() {
    const created = await admin("keys", "create", "--org", "Acme", "--create-org", "--env", "test");
    const db = await openSqliteStore({ path: databasePath() });
    const key = await authenticateSecretKey(db, `Bearer ${created.lastLine}`);
    await importCustomers({ store: db, clock: systemClock }, key, {
      customers: [
        { stripeCustomerId: "cus_a", email: "a@example.com" },
        { stripeCustomerId: "cus_b", email: "b@example.com" },
      ],
    });
    await createSessionToken({ store: db, clock: systemClock }, key, {
      externalUserId: "user_wrong",
      email: "a@example.com",
    });
    await db.close();
    return key;
  }

  async function stateOf(stripeCustomerId: string) {
    const db = await openSqliteStore({ path: databasePath() });
    try {
      const customer = await db.kysely
        .selectFrom("imported_customers")
        .selectAll()
        .where("stripe_customer_id", "=", stripeCustomerId)
        .executeTakeFirstOrThrow();
      const counter = await db.kysely
        .selectFrom("customer_binding_counts")
        .select("unresolved_count")
        .executeTakeFirstOrThrow();
      const events = await db.kysely
        .selectFrom("audit_events")
        .select(["action", "actor_type", "actor_id", "external_user_id", "details"])
        .where("subject_id", "=", stripeCustomerId)
        .orderBy("id")
        .execute();
      return { customer, counter: Number(counter.unresolved_count), events };
    } finally {
      await db.close();
    }
  }

  it("customers unbind undoes a binding, counts the customer unresolved again and audits it as the operator's", async () => {
    await seed();
    const result = await admin("customers", "unbind", "--org", "Acme", "--env", "test", "--stripe-customer", "cus_a");
    expect(result.code).toBe(0);
    expect(result.lastLine).toBe('Unbound cus_a from user "user_wrong". It now binds only by hand (customers bind).');
    const state = await stateOf("cus_a");
    expect(state.customer).toMatchObject({ external_user_id: null, bound_by: null, bound_at: null });
    expect(state.customer.unbound_at).not.toBeNull();
    expect(state.counter).toBe(2);
    expect(state.events.at(-1)).toMatchObject({
      action: "customer.unbound",
      actor_type: "operator",
      actor_id: null,
      external_user_id: "user_wrong",
    });

    // Again: nothing to undo, nothing written.
    const again = await admin("customers", "unbind", "--org", "Acme", "--env", "test", "--stripe-customer", "cus_a");
    expect(again.code).toBe(0);
    expect(again.lastLine).toBe("cus_a is not bound; nothing to undo.");
    expect(await stateOf("cus_a")).toEqual(state);
  });

  it("customers bind --rebind moves a binding in one step; without --rebind it is refused", async () => {
    await seed();
    const refused = await admin(
      "customers",
      "bind",
      "--org",
      "Acme",
      "--env",
      "test",
      "--stripe-customer",
      "cus_a",
      "--user",
      "user_right",
    );
    expect(refused.code).toBe(1);
    expect(refused.err.join("\n")).toMatch(/already bound to user "user_wrong".*rebind/);

    const moved = await admin(
      "customers",
      "bind",
      "--org",
      "Acme",
      "--env",
      "test",
      "--stripe-customer",
      "cus_a",
      "--user",
      "user_right",
      "--rebind",
    );
    expect(moved.code).toBe(0);
    expect(moved.lastLine).toBe('Bound cus_a to user "user_right" (manual).');
    const state = await stateOf("cus_a");
    expect(state.customer.external_user_id).toBe("user_right");
    expect(state.counter).toBe(1);
    expect(state.events.slice(-2).map((e) => [e.action, e.actor_type, e.external_user_id])).toEqual([
      ["customer.unbound", "operator", "user_wrong"],
      ["customer.bound", "operator", "user_right"],
    ]);
  });

  it("an unknown organization or customer fails with a message and exit code 1, and creates nothing", async () => {
    await seed();
    const noOrg = await admin(
      "customers",
      "unbind",
      "--org",
      "Acme Typo",
      "--env",
      "test",
      "--stripe-customer",
      "cus_a",
    );
    expect(noOrg.code).toBe(1);
    expect(noOrg.err).toEqual([
      expect.stringMatching(/^No organization named "Acme Typo"; create it with: pnpm admin orgs create "Acme Typo"/),
    ]);
    const noCustomer = await admin(
      "customers",
      "unbind",
      "--org",
      "Acme",
      "--env",
      "live",
      "--stripe-customer",
      "cus_a",
    );
    expect(noCustomer.code).toBe(1);
    expect(noCustomer.err).toEqual(["No imported customer cus_a in the live environment"]);
    const db = await openSqliteStore({ path: databasePath() });
    expect(await db.kysely.selectFrom("organizations").select("name").execute()).toEqual([{ name: "Acme" }]);
    await db.close();
    expect((await stateOf("cus_a")).customer.external_user_id).toBe("user_wrong");
  });

  it.each([
    [
      ["customers", "unbind", "--org", "Acme", "--env", "test"],
      /required option '--stripe-customer <id>' not specified/,
    ],
    [
      ["customers", "unbind", "--org", "Acme", "--env", "test", "--stripe-customer", "user_1"],
      /stripeCustomerId must be a Stripe customer id/,
    ],
    [
      ["customers", "unbind", "--org", "Acme", "--env", "prod", "--stripe-customer", "cus_a"],
      /Allowed choices are test, live/,
    ],
    [
      ["customers", "bind", "--org", "Acme", "--env", "test", "--stripe-customer", "cus_a", "--user", ""],
      /externalUserId must not be empty/,
    ],
  ])("refuses %j with usage and exit code 2", async (argv, message) => {
    const result = await admin(...argv);
    expect(result.code).toBe(2);
    expect(result.err.join("\n")).toMatch(message);
    expect(result.err.join("\n")).toMatch(/Usage: admin customers/);
  });
});

describe("admin CLI as a process", () => {
  it("prints the key alone on the last line of stdout", async () => {
    const run = runEntry("src/admin/main.ts", ["keys", "create", "--org", "Acme", "--create-org", "--env", "live"], {
      DATABASE_PATH: databasePath(),
    });
    expect((await run.exited).code).toBe(0);
    const lastLine = run.stdout().trimEnd().split("\n").at(-1)!;
    expect(parseToken(lastLine, "secretKey")?.environment).toBe("live");
  });

  it("exits 2 with usage on an unknown command, as the billingos CLI does", async () => {
    const run = runEntry("src/admin/main.ts", ["nope"], { DATABASE_PATH: databasePath() });
    expect((await run.exited).code).toBe(2);
    expect(run.stderr()).toMatch(/unknown command 'nope'/);
  });
});
