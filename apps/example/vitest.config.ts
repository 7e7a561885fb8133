import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

export default mergeConfig(sharedConfig, {
  test: {
    // The browser test starts the server, builds the app (about a minute) and drives Chromium.
    testTimeout: 60_000,
    hookTimeout: 360_000,
  },
});
