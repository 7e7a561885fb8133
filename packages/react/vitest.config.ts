import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

// The provider's tests render in jsdom and talk to a real BillingOS server and a real route handler
// (test/support/billingos-stack.ts). They exercise the provider, not the database engine: SQLite only.
export default mergeConfig(sharedConfig, {
  test: {
    include: ["test/**/*.test.{ts,tsx}"],
    environment: "jsdom",
  },
});
