import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createContextInner } from "../../src/trpc/context.js";
import { appRouter } from "../../src/trpc/router.js";
import { createCallerFactory } from "../../src/trpc/trpc.js";
import { createHarness, type Harness, rejectionOf } from "../harness.js";
import { call, dataOf, killAllServers, makeTempDir, startServer } from "../reliability/support.js";
import { customerRow, expectCounterConsistent, stripeCustomer } from "./support.js";

// Issue item 9 (optional part): lazy binding can be limited to emails the merchant marks verified.
// `emailVerified: false` never binds; with LAZY_BINDING_REQUIRES_VERIFIED_EMAIL=true only `true` does.

const createCaller = createCallerFactory(appRouter);

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
  await h.caller(h.testKey.secretKey).customers.import({ customers: [stripeCustomer("a")] });
});
afterEach(() => h.close());

/** Acme's test key on a deployment with the setting as given. */
const acme = (lazyBindingRequiresVerifiedEmail: boolean) =>
  createCaller(
    createContextInner(
      { ...h.deps, lazyBindingRequiresVerifiedEmail },
      { authorization: `Bearer ${h.testKey.secretKey}` },
    ),
  );

const boundUser = async () => (await customerRow(h.store, h.testKey, "cus_a")).external_user_id;

describe("emailVerified at token creation", () => {
  it("by default: absent binds", async () => {
    await acme(false).sessionTokens.create({ externalUserId: "user_a", email: "a@example.com" });
    expect(await boundUser()).toBe("user_a");
  });

  it("by default: false never binds; true binds", async () => {
    const created = await acme(false).sessionTokens.create({
      externalUserId: "user_x",
      email: "a@example.com",
      emailVerified: false,
    });
    expect(created.unresolvedCustomers).toBe(1);
    expect(await boundUser()).toBeNull();
    await acme(false).sessionTokens.create({ externalUserId: "user_a", email: "a@example.com", emailVerified: true });
    expect(await boundUser()).toBe("user_a");
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("with LAZY_BINDING_REQUIRES_VERIFIED_EMAIL: absent and false do not bind; true binds", async () => {
    await acme(true).sessionTokens.create({ externalUserId: "user_x", email: "a@example.com" });
    await acme(true).sessionTokens.create({ externalUserId: "user_y", email: "a@example.com", emailVerified: false });
    expect(await boundUser()).toBeNull();
    await acme(true).sessionTokens.create({ externalUserId: "user_a", email: "a@example.com", emailVerified: true });
    expect(await boundUser()).toBe("user_a");
    expect(await expectCounterConsistent(h)).toBe(0);
  });

  it("refuses an emailVerified that is not a boolean with BAD_REQUEST naming it, and stores nothing", async () => {
    const rejection = await rejectionOf(
      // @ts-expect-error: emailVerified is a boolean
      acme(false).sessionTokens.create({ externalUserId: "u", email: "a@example.com", emailVerified: "yes" }),
    );
    expect(rejection.error.code).toBe("BAD_REQUEST");
    expect(rejection.data.fieldErrors).toHaveProperty("emailVerified");
    expect(await boundUser()).toBeNull();
  });
});

describe("LAZY_BINDING_REQUIRES_VERIFIED_EMAIL", () => {
  it("defaults to false, reads true and false, and refuses anything else with a clear message", () => {
    expect(loadConfig({}).lazyBindingRequiresVerifiedEmail).toBe(false);
    expect(loadConfig({ LAZY_BINDING_REQUIRES_VERIFIED_EMAIL: "true" }).lazyBindingRequiresVerifiedEmail).toBe(true);
    expect(loadConfig({ LAZY_BINDING_REQUIRES_VERIFIED_EMAIL: "false" }).lazyBindingRequiresVerifiedEmail).toBe(false);
    expect(() => loadConfig({ LAZY_BINDING_REQUIRES_VERIFIED_EMAIL: "yes" })).toThrow(
      'LAZY_BINDING_REQUIRES_VERIFIED_EMAIL must be "true" or "false" (got "yes")',
    );
  });

  it("is honoured by the server process (src/main.ts)", async () => {
    const temp = makeTempDir("billingos-verified-");
    try {
      const server = await startServer(join(temp.path, "billingos.sqlite"), {
        LAZY_BINDING_REQUIRES_VERIFIED_EMAIL: "true",
      });
      const key = server.developmentKey!;
      await dataOf(
        await call(server.url, key, "customers.import", {
          customers: [{ stripeCustomerId: "cus_a", email: "a@example.com" }],
        }),
      );
      const unverified = dataOf<{ unresolvedCustomers?: number }>(
        await call(server.url, key, "sessionTokens.create", { externalUserId: "user_a", email: "a@example.com" }),
      );
      expect(unverified.unresolvedCustomers).toBe(1);
      const verified = dataOf<{ unresolvedCustomers?: number }>(
        await call(server.url, key, "sessionTokens.create", {
          externalUserId: "user_a",
          email: "a@example.com",
          emailVerified: true,
        }),
      );
      expect(verified.unresolvedCustomers).toBeUndefined();
    } finally {
      await killAllServers();
      temp.remove();
    }
  }, 60_000);
});
