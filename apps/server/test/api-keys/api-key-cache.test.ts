import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createApiKey, revokeApiKey } from "../../src/api-keys/api-keys.service.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { createHarness, type Harness, rejectionOf } from "../harness.js";

// The key lookup is cached in memory while SQLite's data_version is unchanged. These tests prove
// that a revocation, wherever it is committed, holds for the very next call anyway.
let dir: string;
let h: Harness;
let other: Store | undefined;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "billingos-key-cache-"));
  h = await createHarness(await openSqliteStore({ path: join(dir, "db.sqlite") }));
});
afterEach(async () => {
  await other?.close();
  other = undefined;
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

const verifyWith = (secretKey: string) =>
  h.caller(secretKey).sessionTokens.verify({ sessionToken: "bos_session_test_x" });

describe("the cached key lookup", () => {
  it("refuses a key revoked through the same database handle on the next call", async () => {
    await expect(verifyWith(h.testKey.secretKey)).resolves.toEqual({ valid: false, reason: "malformed" });
    await expect(verifyWith(h.testKey.secretKey)).resolves.toEqual({ valid: false, reason: "malformed" });

    await revokeApiKey(h.store, h.clock, h.testKey.id);

    const refused = await rejectionOf(verifyWith(h.testKey.secretKey));
    expect(refused.error.code).toBe("UNAUTHORIZED");
    expect(refused.message).toBe("Unknown or revoked secret key");
  });

  it("refuses a key revoked by another connection (as another process would) on the next call", async () => {
    await expect(verifyWith(h.testKey.secretKey)).resolves.toEqual({ valid: false, reason: "malformed" });
    other = await openSqliteStore({ path: join(dir, "db.sqlite") });

    await revokeApiKey(other, h.clock, h.testKey.id);

    expect((await rejectionOf(verifyWith(h.testKey.secretKey))).error.code).toBe("UNAUTHORIZED");
    // Other keys, cached before the commit, are read again and still work.
    await expect(verifyWith(h.otherOrgKey.secretKey)).resolves.toEqual({ valid: false, reason: "malformed" });
  });

  it("accepts a key created by another connection at once, and refuses it once revoked there", async () => {
    await expect(verifyWith(h.testKey.secretKey)).resolves.toEqual({ valid: false, reason: "malformed" });
    other = await openSqliteStore({ path: join(dir, "db.sqlite") });
    const created = await createApiKey(other, h.clock, { organizationName: "Initech", environment: "test" });
    await expect(verifyWith(created.secretKey)).resolves.toEqual({ valid: false, reason: "malformed" });
    await expect(verifyWith(created.secretKey)).resolves.toEqual({ valid: false, reason: "malformed" });

    await revokeApiKey(other, h.clock, created.id);
    expect((await rejectionOf(verifyWith(created.secretKey))).error.code).toBe("UNAUTHORIZED");
  });
});
