import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { it } from "vitest";

/** Debian's Chromium (`apt-get install chromium`); Playwright's own browser download is not used. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

export const chromiumInstalled = existsSync(CHROMIUM_PATH);

export const INSTALL_HINT = `Chromium is not installed at ${CHROMIUM_PATH}; install it with: sudo apt-get install -y chromium`;

export function isCI(): boolean {
  const value = (process.env.CI ?? "").toLowerCase();
  return value !== "" && value !== "0" && value !== "false";
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    // These flags keep Chromium off the network (this machine has none) and quiet.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    timeout: 30_000,
  });
}

/**
 * Without Chromium, a browser test is skipped with one line on how to install it, or fails when CI
 * is set (where .ci/run installs it). Call at the top of a test file; run its tests under
 * `describe.runIf(chromiumInstalled)`.
 */
export function requireChromium(suite: string): void {
  if (chromiumInstalled) return;
  if (isCI()) {
    it(`has Chromium to run ${suite}`, () => {
      throw new Error(INSTALL_HINT);
    });
  } else {
    console.warn(`Skipping ${suite}. ${INSTALL_HINT}`);
  }
}
