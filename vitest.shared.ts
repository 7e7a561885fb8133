import { defineConfig } from "vitest/config";

/**
 * Tests run on the workspace packages' TypeScript sources (the "source" export condition), so
 * nothing has to be built first.
 */
const conditions = ["source", "module", "node", "development|production"];

export const sharedConfig = defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
