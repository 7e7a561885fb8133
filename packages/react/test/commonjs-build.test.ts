// @vitest-environment node
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build helper, without types.
import { cjsBuildOptions } from "../scripts/cjs-build.mjs";

// The CommonJS build (what `require("@billingos/react")` gets) loads in Node and exports the same
// names as the ESM entry. It is built here with the build script's own options.

const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));
// Inside the package, so that its require("react") finds the package's React.
const outDir = mkdtempSync(join(PACKAGE_ROOT, ".test-build-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("the CommonJS build", () => {
  it("requires, and exports what the ESM entry exports", { timeout: 60_000 }, async () => {
    const outfile = join(outDir, "index.cjs");
    await build({
      ...cjsBuildOptions(outfile),
      absWorkingDir: PACKAGE_ROOT,
      conditions: ["source"],
      logLevel: "silent",
    });
    expect(readFileSync(outfile, "utf8").startsWith('"use client";')).toBe(true);
    const required = createRequire(import.meta.url)(outfile) as Record<string, unknown>;
    const esm = (await import("../src/index.js")) as Record<string, unknown>;
    expect(Object.keys(required).sort()).toEqual(Object.keys(esm).sort());
    expect(typeof required.BillingOSProvider).toBe("function");
    expect(typeof required.useCustomer).toBe("function");
  });
});
