import { randomInt } from "node:crypto";
import { defineConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

/**
 * `pnpm fuzz`: the security suite's property files (test/security/*.property.test.ts) with
 * FUZZ_RUNS cases per property (default 10,000) and a fresh random seed unless FUZZ_SEED is given,
 * plus the slow-client test that needs the real, long timeouts. `pnpm test` runs the same property
 * files with 200 cases and seed 42.
 */
const runs = process.env.FUZZ_RUNS || "10000";
const seed = process.env.FUZZ_SEED || String(randomInt(2 ** 31 - 1));
console.log(`[fuzz] FUZZ_RUNS=${runs} FUZZ_SEED=${seed} (repeat this run with FUZZ_SEED=${seed} pnpm fuzz)`);

export default defineConfig({
  ...sharedConfig,
  test: {
    ...sharedConfig.test,
    include: ["test/security/**/*.property.test.ts", "test/security/slow-client.test.ts"],
    env: { FUZZ_RUNS: runs, FUZZ_SEED: seed },
    testTimeout: 60 * 60_000,
    hookTimeout: 60_000,
  },
});
