import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE62_ALPHABET, SECRET_BODY_LENGTH } from "@billingos/contracts";
import { afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "../src/api-keys/api-keys.service.js";
import { digestSecret, hashSecret, randomSecretBody, storedDigestMatches } from "../src/shared/secrets.js";
import { openSqliteStore } from "../src/store/sqlite/sqlite-store.js";
import { createHarness, type Harness, secretBodyOf } from "./harness.js";

const sha256Hex = (value: string) => createHash("sha256").update(value).digest("hex");

describe("randomSecretBody", () => {
  it("is SECRET_BODY_LENGTH (43) base62 characters", () => {
    for (let i = 0; i < 200; i++) {
      const body = randomSecretBody();
      expect(body).toHaveLength(SECRET_BODY_LENGTH);
      expect(body).toMatch(/^[0-9A-Za-z]{43}$/);
    }
    // 43 base62 characters carry at least 256 bits.
    expect(SECRET_BODY_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(256);
  });

  it("never repeats and uses the whole alphabet", () => {
    const bodies = Array.from({ length: 2_000 }, () => randomSecretBody());
    expect(new Set(bodies).size).toBe(bodies.length);
    const seen = new Set(bodies.join(""));
    expect([...BASE62_ALPHABET].every((char) => seen.has(char))).toBe(true);
  });

  it("draws characters uniformly (no modulo bias toward the first ones)", () => {
    // 86,000 characters, ~1387 expected per symbol; a modulo-256 bias would give the first 8 symbols ~25 % more.
    const counts = new Map<string, number>();
    for (let i = 0; i < 2_000; i++)
      for (const char of randomSecretBody()) counts.set(char, (counts.get(char) ?? 0) + 1);
    const expected = (2_000 * SECRET_BODY_LENGTH) / 62;
    for (const char of BASE62_ALPHABET) {
      const count = counts.get(char) ?? 0;
      expect(Math.abs(count - expected) / expected, char).toBeLessThan(0.15);
    }
  });
});

describe("hashSecret, digestSecret and storedDigestMatches", () => {
  it("hashSecret is SHA-256 hex, and digestSecret gives the same hex with its bytes", () => {
    expect(hashSecret("bos_session_test_abc")).toBe(sha256Hex("bos_session_test_abc"));
    expect(hashSecret("x")).toMatch(/^[0-9a-f]{64}$/);
    const digest = digestSecret("bos_session_test_abc");
    expect(digest.hex).toBe(hashSecret("bos_session_test_abc"));
    expect(digest.bytes.toString("hex")).toBe(digest.hex);
  });

  it("storedDigestMatches is true only for the same digest", () => {
    const a = digestSecret("a");
    expect(storedDigestMatches(hashSecret("a"), a)).toBe(true);
    expect(storedDigestMatches(hashSecret("b"), a)).toBe(false);
    // One differing nibble at the end.
    expect(storedDigestMatches(a.hex.slice(0, -1) + (a.hex.endsWith("0") ? "1" : "0"), a)).toBe(false);
    // Other lengths never match (and do not throw, unlike timingSafeEqual).
    expect(storedDigestMatches(a.hex.slice(0, 62), a)).toBe(false);
    expect(storedDigestMatches("", a)).toBe(false);
    expect(storedDigestMatches(`${a.hex}f`, a)).toBe(false);
  });

  it("storedDigestMatches refuses stored values that are not hex", () => {
    // Buffer.from(…, "hex") stops at the first non-hex character: a shorter buffer must not pass.
    const a = digestSecret("a");
    expect(storedDigestMatches(`${a.hex.slice(0, 62)}zz`, a)).toBe(false);
    expect(storedDigestMatches("z".repeat(64), a)).toBe(false);
  });
});

describe("secrets at rest (file database)", () => {
  let dir: string | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** Every byte SQLite wrote: the database file, its WAL and shared-memory index if present. */
  const bytesOf = (path: string) =>
    Buffer.concat(
      [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]
        .filter((file) => existsSync(file))
        .map((file) => readFileSync(file)),
    );

  /** The secret and windows of its random body: none may appear in any encoding SQLite might use. */
  function expectAbsent(bytes: Buffer, secret: string) {
    expect(bytes.includes(secret), secret).toBe(false);
    const body = secretBodyOf(secret);
    for (let start = 0; start + 12 <= body.length; start += 4) {
      const window = body.slice(start, start + 12);
      expect(bytes.includes(window), `body window ${window} of ${secret}`).toBe(false);
      expect(bytes.includes(Buffer.from(window, "utf16le")), `utf16 window ${window}`).toBe(false);
    }
  }

  it("stores neither session tokens nor secret keys, only their SHA-256", async () => {
    dir = mkdtempSync(join(tmpdir(), "billingos-secrets-"));
    const path = join(dir, "billingos.sqlite");
    h = await createHarness(await openSqliteStore({ path: path }));
    const extraKey = await createApiKey(h.store, h.clock, { organizationName: "Acme", environment: "test" });
    const tokens: Array<{ sessionToken: string; tokenId: string }> = [];
    for (const key of [h.testKey, h.liveKey, h.otherOrgKey, extraKey]) {
      for (let i = 0; i < 3; i++) {
        tokens.push(
          await h.caller(key.secretKey).sessionTokens.create({
            externalUserId: `user_${i}`,
            metadata: { ip: "203.0.113.9" },
          }),
        );
      }
    }
    // Verify and revoke by token too: those paths must not write the token either.
    await h.caller(h.testKey.secretKey).sessionTokens.verify({ sessionToken: tokens[0]!.sessionToken });
    await h.caller(h.testKey.secretKey).sessionTokens.revoke({ sessionToken: tokens[1]!.sessionToken });

    const rows = await h.store.kysely.selectFrom("session_tokens").select(["id", "token_hash"]).execute();
    const hashById = new Map(rows.map((row) => [row.id, row.token_hash]));
    for (const token of tokens) expect(hashById.get(token.tokenId)).toBe(sha256Hex(token.sessionToken));
    const keyRows = await h.store.kysely.selectFrom("api_keys").select(["id", "key_hash"]).execute();
    const keyHashById = new Map(keyRows.map((row) => [row.id, row.key_hash]));
    const secretKeys = [h.testKey, h.liveKey, h.otherOrgKey, extraKey];
    for (const key of secretKeys) expect(keyHashById.get(key.id)).toBe(sha256Hex(key.secretKey));

    const secrets = [...tokens.map((token) => token.sessionToken), ...secretKeys.map((key) => key.secretKey)];
    // While open: the recent writes sit in the WAL.
    const whileOpen = bytesOf(path);
    expect(whileOpen.includes(tokens[0]!.tokenId)).toBe(true); // the scan does see what is stored
    for (const secret of secrets) expectAbsent(whileOpen, secret);

    await h.close();
    h = undefined;
    const afterClose = bytesOf(path);
    expect(afterClose.includes(tokens[0]!.tokenId)).toBe(true);
    for (const secret of secrets) expectAbsent(afterClose, secret);
  });
});
