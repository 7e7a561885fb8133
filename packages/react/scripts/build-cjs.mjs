// The CommonJS build: one file, with the session client bundled in (@billingos/node ships ESM only)
// and React left to the app. The ESM build and the types come from tsc (tsconfig.build.json).
import { mkdirSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

await build({
  entryPoints: ["src/index.ts"],
  outfile: "dist/cjs/index.cjs",
  bundle: true,
  platform: "neutral",
  format: "cjs",
  target: "es2022",
  jsx: "automatic",
  external: ["react", "react-dom", "react/jsx-runtime"],
  // Next.js app-router pages must see the directive on the module they import.
  banner: { js: '"use client";' },
  logOverride: { "module-level-directive": "silent" },
  sourcemap: true,
});
mkdirSync("dist/cjs", { recursive: true });
writeFileSync("dist/cjs/index.d.cts", 'export * from "../index.js";\n');
