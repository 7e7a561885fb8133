import { defineConfig } from "tsup";

// The published build: the command as one ESM file, dist/main.js, which bin/billingos.js runs. Its
// dependencies (the node client, commander, the parsers) stay imports, installed beside it.
export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  platform: "node",
  target: "es2022",
  sourcemap: true,
  clean: true,
  // Keep `node:` in the imports of built-ins (tsup strips it by default, for Node versions long gone).
  removeNodeProtocol: false,
});
