// The CommonJS build (dist/cjs). The ESM build and the types come from tsc (tsconfig.build.json).
import { mkdirSync, writeFileSync } from "node:fs";
import { build } from "esbuild";
import { cjsBuildOptions } from "./cjs-build.mjs";

await build(cjsBuildOptions("dist/cjs/index.cjs"));
mkdirSync("dist/cjs", { recursive: true });
writeFileSync("dist/cjs/index.d.cts", 'export * from "../index.js";\n');
