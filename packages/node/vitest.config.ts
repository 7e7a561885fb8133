import { fileURLToPath } from "node:url";
import { defineConfig, mergeConfig } from "vitest/config";
import { postgresProject } from "../../vitest.postgres.js";
import { sharedConfig } from "../../vitest.shared.js";

/** Suites that start no server on a database (parsing, routing, the browser bundle, the packed package on its own server process): run once, on SQLite's project. */
const DATABASE_FREE = [
  "test/proxy-answers.e2e.test.ts",
  "test/readme.test.ts",
  "test/session/session-client.routing.test.ts",
  "test/session/browser-bundle.test.ts",
  "test/packed/packed-install.test.ts",
];

export default defineConfig(async () =>
  mergeConfig(sharedConfig, {
    // The Next.js fixture imports "@/auth", as a Next.js app would.
    resolve: { alias: { "@/auth": fileURLToPath(new URL("./fixtures/nextjs/auth.ts", import.meta.url)) } },
    test: {
      projects: [
        { extends: true, test: { name: "sqlite", env: { BILLINGOS_TEST_ENGINE: "sqlite" } } },
        ...(await postgresProject({ exclude: DATABASE_FREE })),
      ],
    },
  }),
);
