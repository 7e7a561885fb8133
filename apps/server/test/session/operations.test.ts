import { OPERATIONS } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness, rejectionOf, START_TIME } from "../harness.js";
import { expectBareForbidden, expectBareUnauthorized, sessionCaller } from "./support.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const merchant = () => h.caller(h.testKey.secretKey).sessionTokens;

describe("session.* operation checks (SPEC §4)", () => {
  it("a token scoped to session:read reads its session, listing only that operation", async () => {
    const created = await merchant().create({
      externalUserId: "user_1",
      expiresIn: 900,
      allowedOperations: ["session:read"],
    });
    expect(await sessionCaller(h, created.sessionToken).session.get()).toEqual({
      tokenId: created.tokenId,
      environment: "test",
      expiresAt: new Date(START_TIME + 900_000).toISOString(),
      operations: ["session:read"],
    });
  });

  it("a token scoped to session:read cannot read the customer", async () => {
    const { sessionToken } = await merchant().create({ externalUserId: "user_1", allowedOperations: ["session:read"] });
    // Refused: customer:read is outside the token's allowedOperations, so FORBIDDEN (not UNAUTHORIZED).
    await expectBareForbidden(sessionCaller(h, sessionToken).session.customer());
  });

  it("a token scoped to session:read cannot sign out, and stays usable afterwards", async () => {
    const { sessionToken } = await merchant().create({ externalUserId: "user_1", allowedOperations: ["session:read"] });
    // Refused: session:revoke is outside the token's allowedOperations.
    await expectBareForbidden(sessionCaller(h, sessionToken).session.signOut());
    expect(await merchant().verify({ sessionToken })).toMatchObject({ valid: true });
    expect((await sessionCaller(h, sessionToken).session.get()).operations).toEqual(["session:read"]);
  });

  it("a token scoped to customer:read reads the customer but cannot sign out or read the session", async () => {
    const { sessionToken } = await merchant().create({
      externalUserId: "user_1",
      allowedOperations: ["customer:read"],
    });
    expect(await sessionCaller(h, sessionToken).session.customer()).toEqual({
      externalUserId: "user_1",
      externalOrganizationId: null,
      email: null,
      stripeCustomer: null,
    });
    // Refused: signing out needs session:revoke, which this token was not given.
    await expectBareForbidden(sessionCaller(h, sessionToken).session.signOut());
    // Refused: reading the session needs session:read, which this token was not given.
    await expectBareForbidden(sessionCaller(h, sessionToken).session.get());
    expect(await merchant().verify({ sessionToken })).toMatchObject({ valid: true });
  });

  it("a token scoped to session:revoke can sign out and nothing else", async () => {
    const created = await merchant().create({ externalUserId: "user_1", allowedOperations: ["session:revoke"] });
    // Refused: neither read operation was granted.
    await expectBareForbidden(sessionCaller(h, created.sessionToken).session.get());
    // Refused: customer:read was not granted.
    await expectBareForbidden(sessionCaller(h, created.sessionToken).session.customer());
    expect(await sessionCaller(h, created.sessionToken).session.signOut()).toEqual({
      tokenId: created.tokenId,
      revokedAt: new Date(START_TIME).toISOString(),
    });
  });

  it("a token created without allowedOperations can do everything, and its session lists every operation", async () => {
    const created = await merchant().create({
      externalUserId: "user_1",
      externalOrganizationId: "org_9",
      email: "u1@example.com",
    });
    const session = await sessionCaller(h, created.sessionToken).session.get();
    expect(session.operations).toEqual([...OPERATIONS]);
    expect(session.operations).toEqual(expect.arrayContaining(["customer:read", "session:read", "session:revoke"]));
    expect(await sessionCaller(h, created.sessionToken).session.customer()).toEqual({
      externalUserId: "user_1",
      externalOrganizationId: "org_9",
      email: "u1@example.com",
      stripeCustomer: null,
    });
    expect(await sessionCaller(h, created.sessionToken).session.signOut()).toMatchObject({ tokenId: created.tokenId });
  });

  it("a token scoped to several operations lists exactly those", async () => {
    const { sessionToken } = await merchant().create({
      externalUserId: "user_1",
      allowedOperations: ["customer:read", "session:read"],
    });
    expect((await sessionCaller(h, sessionToken).session.get()).operations).toEqual(["customer:read", "session:read"]);
    expect((await sessionCaller(h, sessionToken).session.customer()).externalUserId).toBe("user_1");
    // Refused: session:revoke is not among the two granted operations.
    await expectBareForbidden(sessionCaller(h, sessionToken).session.signOut());
  });

  it("FORBIDDEN gives way to UNAUTHORIZED once the token is no longer valid", async () => {
    const created = await merchant().create({
      externalUserId: "user_1",
      expiresIn: 60,
      allowedOperations: ["session:read"],
    });
    h.clock.advance(60_000);
    // Refused as UNAUTHORIZED: an expired token must not reveal what it was scoped to.
    await expectBareUnauthorized(sessionCaller(h, created.sessionToken).session.customer());
    h.clock.set(START_TIME);
    await merchant().revoke({ tokenId: created.tokenId });
    // Refused as UNAUTHORIZED: a revoked token must not reveal what it was scoped to.
    await expectBareUnauthorized(sessionCaller(h, created.sessionToken).session.customer());
  });

  it("an unknown operation in allowedOperations is a BAD_REQUEST listing the valid ones, and stores nothing", async () => {
    // Refused: "billing:write" is not one of the contracts' operations.
    const rejection = await rejectionOf(
      merchant().create({ externalUserId: "user_1", allowedOperations: ["billing:write" as never] }),
    );
    expect(rejection.error.code).toBe("BAD_REQUEST");
    for (const operation of OPERATIONS) expect(rejection.message).toContain(operation);
    expect(Object.keys(rejection.data.fieldErrors ?? {}).some((key) => key.startsWith("allowedOperations"))).toBe(true);
    expect((await merchant().list({ externalUserId: "user_1" })).data).toEqual([]);
  });
});
