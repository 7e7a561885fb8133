import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ServerHarness, startServerHarness } from "./server-harness.js";

// The route is compiled the Next.js way (bundler resolution, the "@/auth" alias; see
// fixtures/nextjs/tsconfig.json), so this file loads it by a specifier tsc does not follow.
const ROUTE_MODULE: string = "../fixtures/nextjs/app/api/billingos-session/route.js";
type RouteModule = { POST: () => Promise<Response>; DELETE: () => Promise<Response> };
type AuthModule = typeof import("../fixtures/nextjs/auth.js");

const ENV_NAMES = ["BILLINGOS_SECRET_KEY", "BILLINGOS_SANDBOX_URL", "BILLINGOS_PRODUCTION_URL"] as const;
let savedEnv: Record<string, string | undefined>;
let h: ServerHarness;

beforeEach(async () => {
  savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
  h = await startServerHarness();
});
afterEach(async () => {
  for (const name of ENV_NAMES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  await h.close();
});

/** Loads the route fresh, as Next.js would on a cold start, with the environment it reads at import. */
async function loadRoute(secretKey: string) {
  process.env.BILLINGOS_SECRET_KEY = secretKey;
  process.env.BILLINGOS_SANDBOX_URL = h.url;
  process.env.BILLINGOS_PRODUCTION_URL = h.url;
  vi.resetModules();
  const route = (await import(ROUTE_MODULE)) as RouteModule;
  const auth = (await import("../fixtures/nextjs/auth.js")) as AuthModule;
  return { route, auth };
}

describe("the documented Next.js route handler, unchanged", () => {
  it("answers 401 when nobody is signed in", async () => {
    const { route, auth } = await loadRoute(h.testKey.secretKey);
    auth.signInAs(null);
    const response = await route.POST();
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Not signed in" });
  });

  it("hands a signed-in user a session token that then verifies", async () => {
    const { route, auth } = await loadRoute(h.testKey.secretKey);
    auth.signInAs({ user: { id: "user_1", email: "a@example.com" } });

    const before = Date.now();
    const response = await route.POST();
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await response.json()) as { sessionToken: string; expiresAt: string };

    expect(Object.keys(body).sort()).toEqual(["expiresAt", "sessionToken"]);
    expect(body.sessionToken.startsWith("bos_session_test_")).toBe(true);
    expect(typeof body.expiresAt).toBe("string");
    expect(new Date(body.expiresAt).toISOString()).toBe(body.expiresAt);
    expect(Math.abs(new Date(body.expiresAt).getTime() - (before + 3_600_000))).toBeLessThan(5_000);

    const verified = await h.client(h.testKey.secretKey).verifySessionToken(body.sessionToken);
    expect(verified).toMatchObject({
      valid: true,
      environment: "test",
      customer: { externalUserId: "user_1", email: "a@example.com", externalOrganizationId: null },
      allowedOperations: null,
    });
  });

  it("works for a user without an email", async () => {
    const { route, auth } = await loadRoute(h.testKey.secretKey);
    auth.signInAs({ user: { id: "user_2", email: null } });
    const response = await route.POST();
    expect(response.status).toBe(200);
    const body = (await response.json()) as { sessionToken: string };
    expect(await h.client(h.testKey.secretKey).verifySessionToken(body.sessionToken)).toMatchObject({
      valid: true,
      customer: { externalUserId: "user_2", email: null },
    });
  });

  it("issues live tokens when deployed with a live key", async () => {
    const { route, auth } = await loadRoute(h.liveKey.secretKey);
    auth.signInAs({ user: { id: "user_1" } });
    const body = (await (await route.POST()).json()) as { sessionToken: string };
    expect(body.sessionToken.startsWith("bos_session_live_")).toBe(true);
  });

  it("DELETE revokes every token of the signed-in customer, and only theirs", async () => {
    const { route, auth } = await loadRoute(h.testKey.secretKey);
    const merchant = h.client(h.testKey.secretKey);
    auth.signInAs({ user: { id: "user_1" } });
    const first = (await (await route.POST()).json()) as { sessionToken: string };
    const second = (await (await route.POST()).json()) as { sessionToken: string };
    const someoneElse = await merchant.createSessionToken({ externalUserId: "user_2" });

    const response = await route.DELETE();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ revokedCount: 2 });
    expect(await merchant.verifySessionToken(first.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    expect(await merchant.verifySessionToken(second.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    expect(await merchant.verifySessionToken(someoneElse.sessionToken)).toMatchObject({ valid: true });
  });

  it("DELETE answers 401 when nobody is signed in, and revokes nothing", async () => {
    const { route, auth } = await loadRoute(h.testKey.secretKey);
    const kept = await h.client(h.testKey.secretKey).createSessionToken({ externalUserId: "user_1" });
    auth.signInAs(null);
    const response = await route.DELETE();
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Not signed in" });
    expect(await h.client(h.testKey.secretKey).verifySessionToken(kept.sessionToken)).toMatchObject({ valid: true });
  });
});
