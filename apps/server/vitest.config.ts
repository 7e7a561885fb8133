import { defineConfig, mergeConfig } from "vitest/config";
import { postgresProject } from "../../vitest.postgres.js";
import { sharedConfig } from "../../vitest.shared.js";

/**
 * Suites that are SQLite by nature, and run on SQLite only: they read SQLite's query plans, its
 * group commit, its data_version key cache, its reader connection beside a busy writer, its file
 * (bytes on disk, crash and kill -9 tests, two processes on one file), or touch no database at all,
 * or test a service beside it whatever the engine (Redis going away under the rate limiter).
 */
const SQLITE_ONLY = [
  "test/admin-cli.test.ts",
  "test/api-keys/api-key-cache.test.ts",
  "test/api-keys/development-key.test.ts",
  "test/config.test.ts",
  "test/customers/concurrent-writes.test.ts",
  "test/customers/email-normalization.property.test.ts",
  "test/customers/query-plans.test.ts",
  "test/group-commit.test.ts",
  "test/http/health.test.ts",
  "test/random-pool.test.ts",
  "test/rate-limits/redis-outage.test.ts",
  "test/reliability/**",
  "test/secrets.test.ts",
  "test/security/body-memory.test.ts",
  "test/security/deep-json-soak.test.ts",
  "test/security/import-limits.test.ts",
  "test/security/secrets-scan.test.ts",
  "test/server-process.test.ts",
];

export default defineConfig(async () =>
  mergeConfig(sharedConfig, {
    test: {
      projects: [
        {
          extends: true,
          test: { name: "sqlite", exclude: ["test/postgres/**"], env: { BILLINGOS_TEST_ENGINE: "sqlite" } },
        },
        ...(await postgresProject({ exclude: SQLITE_ONLY })),
      ],
    },
  }),
);
