import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "./harness.js";

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

describe("session tokens through createCaller", () => {
  it("creates a test token that then verifies", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const created = await api.create({ externalUserId: "user_1" });
    expect(created.sessionToken.startsWith("bos_session_test_")).toBe(true);
    const verified = await api.verify({ sessionToken: created.sessionToken });
    expect(verified).toMatchObject({ valid: true, tokenId: created.tokenId });
  });
});
