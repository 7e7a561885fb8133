#!/usr/bin/env node
// The `billingos` command. The bin is this file rather than dist/main.js so that it exists on
// a fresh install, before anything is built (pnpm links bins at install time, and would warn about
// a target that is not there yet); it runs the built CLI.
try {
  await import("../dist/main.js");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("dist/main.js")) throw error;
  console.error(
    "billingos: the CLI is not built yet; run `pnpm build` first (in this repository, `pnpm billingos …` runs it from source)",
  );
  process.exitCode = 1;
}
