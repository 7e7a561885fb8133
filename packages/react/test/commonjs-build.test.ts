// @vitest-environment node

import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build helper, without types.
import { cjsBuildOptions } from "../scripts/cjs-build.mjs";

// The CommonJS build (what `require("@billingos/react")` gets) loads in Node and exports the same
// names as the ESM entry. It is built here with the build script's own options, and required in a
// plain Node process: it requires @billingos/node's CommonJS build (built by `pnpm build`, which
// `pnpm test` runs first), which this process would not get (its imports resolve to the sources).

const run = promisify(execFile);
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
    const script = `
      const react = require(${JSON.stringify(outfile)});
      const session = require("@billingos/node/session");
      console.log(JSON.stringify({
        names: Object.keys(react).sort(),
        provider: typeof react.BillingOSProvider,
        useCustomer: typeof react.useCustomer,
        oneErrorClass: react.BillingOSError === session.BillingOSError,
      }));`;
    const { stdout } = await run(process.execPath, ["-e", script], {
      cwd: PACKAGE_ROOT,
      env: { PATH: process.env.PATH },
    });
    const esm = (await import("../src/index.js")) as Record<string, unknown>;
    expect(JSON.parse(stdout)).toEqual({
      names: Object.keys(esm).sort(),
      provider: "function",
      useCustomer: "function",
      oneErrorClass: true,
    });
  });
});
