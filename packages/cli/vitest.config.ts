import { defineConfig, mergeConfig } from "vitest/config";
import { postgresProject } from "../../vitest.postgres.js";
import { sharedConfig } from "../../vitest.shared.js";

/** Suites that start no server on a database (parsing, batching, the files): run once, on SQLite's project. */
const DATABASE_FREE = [
  "test/mapping-and-batching.test.ts",
  "test/progress-percent.test.ts",
  "test/record-limit.property.test.ts",
  // Its own server process, on SQLite.
  "test/packed-bin.e2e.test.ts",
];

export default defineConfig(async () =>
  mergeConfig(sharedConfig, {
    test: {
      projects: [
        { extends: true, test: { name: "sqlite", env: { BILLINGOS_TEST_ENGINE: "sqlite" } } },
        ...(await postgresProject({ exclude: DATABASE_FREE })),
      ],
    },
  }),
);
