import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

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
