import { formatToken } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { revokeApiKey } from "../src/api-keys/api-keys.service.js";
import { randomSecretBody } from "../src/shared/secrets.js";
import { createContextInner } from "../src/trpc/context.js";
import { appRouter } from "../src/trpc/router.js";
import { createCallerFactory } from "../src/trpc/trpc.js";
import { countSessionTokens, createHarness, type Harness, rejectionOf } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

/** A caller with a raw Authorization header (the harness always writes `Bearer <key>`). */
const withAuthorization = (authorization: string | undefined) =>
  createCallerFactory(appRouter)(createContextInner(h.deps, { authorization }));

/** Tries a valid create with that header; returns the refusal. */
async function refusalFor(authorization: string | undefined) {
  const before = await countSessionTokens(h.store);
  const rejection = await rejectionOf(withAuthorization(authorization).sessionTokens.create({ externalUserId: "u" }));
  expect(await countSessionTokens(h.store)).toBe(before);
  return rejection;
}

describe("secret-key authentication", () => {
  it("accepts `Bearer sk_…`, with any case of the scheme", async () => {
    const created = await withAuthorization(`bearer ${h.testKey.secretKey}`).sessionTokens.create({
      externalUserId: "u",
    });
    expect(created.sessionToken).toMatch(/^bos_session_test_/);
  });

  it("refuses each bad credential with UNAUTHORIZED and its own actionable message", async () => {
    const unknownKey = formatToken("secretKey", "test", randomSecretBody());
    const { sessionToken } = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "u" });
    const cases: Array<[authorization: string | undefined, expected: RegExp]> = [
      // No header at all: say which header to send.
      [undefined, /Missing secret key.*Authorization: Bearer/],
      // Not the Bearer scheme: say the expected form.
      [`Basic ${Buffer.from("user:pass").toString("base64")}`, /must be `Bearer sk_test_…`/],
      // The key without a scheme.
      [h.testKey.secretKey, /must be `Bearer sk_test_…`/],
      // A publishable key cannot call the merchant API.
      [`Bearer pk_test_${randomSecretBody()}`, /Publishable keys cannot call the merchant API/],
      // A session token is for browsers, not for the merchant API.
      [`Bearer ${sessionToken}`, /Session tokens cannot call the merchant API/],
      // sk_test_ prefix but not a whole key: fails length/checksum.
      ["Bearer sk_test_x", /fails its checksum/],
      // Not a BillingOS key at all.
      ["Bearer hunter2", /expected sk_test_… or sk_live_…/],
      // Well-formed, checksum-valid, but never issued.
      [`Bearer ${unknownKey}`, /Unknown or revoked secret key/],
    ];
    const messages: string[] = [];
    for (const [authorization, expected] of cases) {
      const { error, data } = await refusalFor(authorization);
      expect(error.code, String(authorization)).toBe("UNAUTHORIZED");
      expect(data.httpStatus).toBe(401);
      expect(error.message, String(authorization)).toMatch(expected);
      messages.push(error.message);
    }
    // Non-Bearer with and without another scheme share a message; every other case has its own.
    expect(new Set(messages).size).toBe(cases.length - 1);
  });

  it("refuses a revoked key with UNAUTHORIZED", async () => {
    await revokeApiKey(h.store, h.clock, h.testKey.id);
    // The key was valid until revoked; from now on it is refused.
    const { error } = await refusalFor(`Bearer ${h.testKey.secretKey}`);
    expect(error.code).toBe("UNAUTHORIZED");
    expect(error.message).toMatch(/revoked/);
  });

  it("never echoes the presented credential in the message", async () => {
    const unknownKey = formatToken("secretKey", "test", randomSecretBody());
    const { error, message } = await refusalFor(`Bearer ${unknownKey}`);
    expect(error.message).not.toContain(unknownKey);
    expect(message).not.toContain(unknownKey);
  });

  it("authenticates before parsing input: bad input without a key is UNAUTHORIZED", async () => {
    // Both the credential and the input are bad; the credential is reported, so no schema leaks to strangers.
    const { error } = await rejectionOf(
      withAuthorization(undefined).sessionTokens.create({ externalUserId: "", expiresIn: 1.5 }),
    );
    expect(error.code).toBe("UNAUTHORIZED");
    // Same for every procedure of the merchant API.
    const procedures = withAuthorization("Bearer sk_test_x").sessionTokens;
    for (const call of [
      procedures.verify({ sessionToken: "" }),
      procedures.revoke({}),
      procedures.list({ externalUserId: "" }),
      procedures.revokeForCustomer({}),
    ]) {
      expect((await rejectionOf(call)).error.code).toBe("UNAUTHORIZED");
    }
  });

  it("a live key and a test key of the same organization are separate credentials", async () => {
    const live = await h.caller(h.liveKey.secretKey).sessionTokens.create({ externalUserId: "u" });
    expect(live.sessionToken).toMatch(/^bos_session_live_/);
    await revokeApiKey(h.store, h.clock, h.testKey.id);
    // Revoking the test key leaves the live key working.
    expect(await h.caller(h.liveKey.secretKey).sessionTokens.verify({ sessionToken: live.sessionToken })).toMatchObject(
      {
        valid: true,
      },
    );
  });
});
