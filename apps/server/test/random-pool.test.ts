import { describe, expect, it } from "vitest";
import { poolRandomBytes } from "../src/shared/random-pool.js";

// Token secrets and ids draw from a pooled CSPRNG buffer: no byte may ever be handed out twice,
// and bytes already handed out must not change when the pool refills.
describe("poolRandomBytes", () => {
  it("never repeats a draw across many refills, and gives exactly the length asked", () => {
    const seen = new Set<string>();
    for (let draw = 0; draw < 2_000; draw++) {
      const bytes = poolRandomBytes(64);
      expect(bytes).toHaveLength(64);
      seen.add(bytes.toString("hex"));
    }
    expect(seen.size).toBe(2_000);
    expect(poolRandomBytes(10_000)).toHaveLength(10_000);
  });

  it("leaves earlier draws untouched when the pool refills", () => {
    const first = poolRandomBytes(16);
    const copy = Buffer.from(first);
    for (let draw = 0; draw < 1_000; draw++) poolRandomBytes(64);
    expect(first.equals(copy)).toBe(true);
  });
});
