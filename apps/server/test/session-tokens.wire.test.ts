import { sessionTokenCreated, sessionTokenVerification } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { verifySessionToken } from "../src/session-tokens/session-tokens.check.js";
import { createSessionToken } from "../src/session-tokens/session-tokens.create.js";
import { createdToWire, verificationToWire } from "../src/session-tokens/session-tokens.router.js";
import { createHarness, type Harness } from "./harness.js";

// The hot answers (verify, create) skip z.encode; they must be exactly what z.encode would send, for every shape.

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("verificationToWire", () => {
  it("equals z.encode for a valid answer, a scoped one, and every invalid one", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const key = { id: h.testKey.id, organizationId: h.testKey.organizationId, environment: "test" as const };
    const plain = await api.create({ externalUserId: "user_1" });
    const full = await api.create({
      externalUserId: "user_2",
      email: "a@example.com",
      externalOrganizationId: "org_9",
      allowedOperations: ["customer:read"],
      metadata: { ip: "203.0.113.9", nested: { list: [1, "two", null] } },
    });
    const revoked = await api.create({ externalUserId: "user_3" });
    await api.revoke({ tokenId: revoked.tokenId });

    const answers = [
      await verifySessionToken(h.deps, key, plain.sessionToken),
      await verifySessionToken(h.deps, key, full.sessionToken, "customer:read"),
      await verifySessionToken(h.deps, key, full.sessionToken, "session:read"),
      await verifySessionToken(h.deps, key, revoked.sessionToken),
      await verifySessionToken(h.deps, key, "bos_session_test_nope"),
    ];
    expect(answers.map((answer) => answer.valid)).toEqual([true, true, false, false, false]);
    for (const answer of answers) {
      expect(verificationToWire(answer)).toStrictEqual(z.encode(sessionTokenVerification, answer));
    }
  });
});

describe("createdToWire", () => {
  it("equals z.encode with and without unresolved customers", async () => {
    const key = { id: h.testKey.id, organizationId: h.testKey.organizationId, environment: "test" as const };
    const alone = await createSessionToken(h.deps, key, { externalUserId: "user_1" });
    await h
      .caller(h.testKey.secretKey)
      .customers.import({ customers: [{ stripeCustomerId: "cus_A1", email: "ada@example.com" }] });
    const withUnresolved = await createSessionToken(h.deps, key, { externalUserId: "user_2", expiresIn: 60 });

    expect(alone.unresolvedCustomers).toBeUndefined();
    expect(withUnresolved.unresolvedCustomers).toBe(1);
    for (const created of [alone, withUnresolved]) {
      expect(createdToWire(created)).toStrictEqual(z.encode(sessionTokenCreated, created));
    }
  });
});
