import { defineConfig } from "tsup";

// The published build: ESM (dist/index.js) and CommonJS (dist/index.cjs), each with its own types
// (.d.ts, .d.cts), so `import` and `require` both get code and types of their own kind.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  platform: "neutral",
  target: "es2022",
  tsconfig: "tsconfig.build.json",
  dts: true,
  sourcemap: true,
  clean: true,
  // Keep `node:` in the imports of built-ins (tsup strips it by default, for Node versions long gone).
  removeNodeProtocol: false,
});
