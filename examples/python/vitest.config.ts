import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

// One engine is enough here: what is under test is the Python client's use of the HTTP API, which
// the server's own suites check on both engines.
export default mergeConfig(sharedConfig, defineConfig({ test: { env: { BILLINGOS_TEST_ENGINE: "sqlite" } } }));
