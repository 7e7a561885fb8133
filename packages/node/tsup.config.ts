import { defineConfig } from "tsup";

// The published build: ESM (.js) and CommonJS (.cjs) of both entries, "." and "./session", each
// with its own types (.d.ts, .d.cts). Dependencies stay imports (not bundled), so the session entry's
// output holds only its own code and stays browser-safe. Code both entries share is one chunk in each format (splitting), so that
// `BillingOSError` is one class whichever entry it came through.
export default defineConfig({
  entry: { index: "src/index.ts", "session/index": "src/session/index.ts" },
  format: ["esm", "cjs"],
  platform: "node",
  target: "es2022",
  tsconfig: "tsconfig.build.json",
  dts: true,
  sourcemap: true,
  splitting: true,
  clean: true,
  // Keep `node:` in the imports of built-ins (tsup strips it by default, for Node versions long gone).
  removeNodeProtocol: false,
});
