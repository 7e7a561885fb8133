import { describe, expect, it } from "vitest";
import { z } from "zod";
import { sessionTokenCreated, sessionTokenRevoked, sessionTokenVerification, timestamp } from "../src/index.js";

const TOKEN_ID = "tok_01hzx3k5m7n9p1q3r5s7t9v1w3";
const instant = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
const iso = "2030-01-02T03:04:05.678Z";

describe("timestamp codec: ISO string on the wire, Date in code", () => {
  it("encodes a Date to its ISO string and decodes it back", () => {
    expect(z.encode(timestamp, instant)).toBe(iso);
    const decoded = z.decode(timestamp, iso);
    expect(decoded).toBeInstanceOf(Date);
    expect(decoded.getTime()).toBe(instant.getTime());
  });

  it("sessionTokenCreated round-trips expiresAt through the wire form", () => {
    const created = {
      tokenId: TOKEN_ID,
      sessionToken: "bos_session_test_abc",
      expiresAt: instant,
      unresolvedCustomers: 3,
    };
    const wire = z.encode(sessionTokenCreated, created);
    expect(wire).toEqual({ ...created, expiresAt: iso });
    // What actually crosses HTTP is JSON; it must survive a JSON round trip unchanged.
    const back = z.decode(sessionTokenCreated, JSON.parse(JSON.stringify(wire)));
    expect(back.expiresAt).toBeInstanceOf(Date);
    expect(back).toEqual(created);
  });

  it("sessionTokenRevoked and a valid verification decode their timestamps to Dates", () => {
    expect(z.decode(sessionTokenRevoked, { tokenId: TOKEN_ID, revokedAt: iso }).revokedAt).toEqual(instant);
    const verification = z.decode(sessionTokenVerification, {
      valid: true,
      tokenId: TOKEN_ID,
      environment: "test",
      customer: { externalUserId: "user_1", externalOrganizationId: null, email: null },
      allowedOperations: null,
      expiresAt: iso,
      metadata: null,
    });
    expect(verification.valid && verification.expiresAt).toEqual(instant);
  });

  // Only ISO 8601 UTC strings are valid on the wire: a Date or an epoch number is not JSON-safe.
  it("rejects non-ISO wire values", () => {
    for (const bad of ["yesterday", "2030-01-02", 1_893_553_445_678, ""]) {
      expect(timestamp.safeParse(bad).success).toBe(false);
    }
    expect(sessionTokenCreated.safeParse({ tokenId: TOKEN_ID, sessionToken: "x", expiresAt: instant }).success).toBe(
      false,
    );
  });
});
