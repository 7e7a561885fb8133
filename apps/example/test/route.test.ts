import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { authorizeDemoUser, demoUserId } from "../src/lib/demo-user";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");

describe("the example app", () => {
  it("serves the documented session-token route, with a kept token handed out again", () => {
    // The documented route (README, packages/node's typechecked fixture) plus reuse: the same
    // answers, the same sign-out. The browser test shows what the reuse does.
    const example = read("../src/app/api/billingos-session/route.ts");
    const documented = read("../../../packages/node/fixtures/nextjs/app/api/billingos-session/route.ts");
    for (const line of [
      "const billing = new BillingOS({ secretKey: process.env.BILLINGOS_SECRET_KEY! });",
      'return Response.json({ error: "Not signed in" }, { status: 401 });',
      "externalUserId: session.user.id,",
      "email: session.user.email,",
      "return Response.json({ sessionToken, expiresAt });",
      "const { revokedCount } = await billing.revokeCustomerSessionTokens({ externalUserId: session.user.id });",
      "return Response.json({ revokedCount });",
    ]) {
      expect(documented).toContain(line);
      expect(example).toContain(line);
    }
    expect(example).toMatch(/export async function POST\(/);
    expect(example).toMatch(/export async function DELETE\(/);
  });

  it("gives the same email the same user id, whatever its case and spacing", () => {
    const id = demoUserId("ada@example.com");
    expect(id).toMatch(/^user_[0-9a-f]{16}$/);
    expect(demoUserId("  Ada@Example.COM ")).toBe(id);
    expect(demoUserId("grace@example.com")).not.toBe(id);
    expect(authorizeDemoUser(" Ada@Example.com", "demo")).toEqual({ id, email: "ada@example.com", name: "ada" });
  });

  it("signs in only with a well-formed email and the demo password", () => {
    expect(authorizeDemoUser("ada@example.com", "Demo")).toBeNull();
    expect(authorizeDemoUser("ada@example.com", "")).toBeNull();
    expect(authorizeDemoUser("not-an-email", "demo")).toBeNull();
    expect(authorizeDemoUser(undefined, "demo")).toBeNull();
  });
});
