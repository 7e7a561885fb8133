// `pnpm dev`'s app in a real browser: the server's dev entry and the example's dev script (`next dev`),
// opened at 127.0.0.1 (next dev refuses its dev resources to hosts it was not told about, and the
// billing page then stayed on "Loading your billing details…") and at localhost.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoUserId } from "../src/lib/demo-user";
import {
  activeTokenIds,
  billingPageReady,
  newPage,
  signOutLeavesNoActiveToken,
  submitSignIn,
  wrongPasswordIsRefusedQuietly,
} from "./support/billing-pages";
import { chromiumInstalled, launchChromium, requireChromium } from "./support/chromium";
import { startExampleDevStack } from "./support/example-dev-stack";
import type { ExampleStack } from "./support/example-stack";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
/** `next dev` compiles each page on its first request: a minute or more on two busy cores. */
const COMPILE_MS = 120_000;

requireChromium("the example app's browser test of pnpm dev");

describe.runIf(chromiumInstalled)("the example merchant app in Chromium (pnpm dev: next dev)", () => {
  let stack: ExampleStack | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    stack = await startExampleDevStack();
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("at 127.0.0.1: signs in, shows the billing page (not only its loading text), and signs out", {
    timeout: 4 * COMPILE_MS,
  }, async () => {
    const { page, offMachine } = await newPage(browser!, undefined, COMPILE_MS);
    const email = "dev.user@example.com";
    const userId = demoUserId(email);

    await page.goto(`${stack!.appUrl}/sign-in`);
    await submitSignIn(page, email, "demo");
    await page.waitForURL(`${stack!.appUrl}/billing`);
    await billingPageReady(page, COMPILE_MS);
    expect(await page.getByTestId("customer-external-user-id").textContent()).toBe(userId);
    expect(await page.getByTestId("customer-email").textContent()).toBe(email);
    expect(await activeTokenIds(stack!, userId)).toHaveLength(1);
    await page.screenshot({ path: `${ARTIFACTS}billing-dev.png`, fullPage: true });

    await signOutLeavesNoActiveToken(stack!, page, userId);
    expect(offMachine).toEqual([]);
    // next dev let the page have what it asked for: it refused nothing to 127.0.0.1.
    expect(stack!.appOutput()).not.toContain("Blocked cross-origin request");
    await page.context().close();
  });

  it("at localhost: the billing page is ready too", { timeout: 2 * COMPILE_MS }, async () => {
    const { page } = await newPage(browser!, undefined, COMPILE_MS);
    const appUrl = stack!.appUrl.replace("127.0.0.1", "localhost");
    await page.goto(`${appUrl}/sign-in`);
    await submitSignIn(page, "dev.localhost@example.com", "demo");
    await page.waitForURL(`${appUrl}/billing`);
    await billingPageReady(page, COMPILE_MS);
    expect(stack!.appOutput()).not.toContain("Blocked cross-origin request");
    await page.context().close();
  });

  it("refuses a wrong password with words on the page and no stack trace in next dev's output", {
    timeout: 2 * COMPILE_MS,
  }, async () => {
    const { page } = await newPage(browser!, undefined, COMPILE_MS);
    await wrongPasswordIsRefusedQuietly(stack!, page, "dev.typo@example.com");
    await page.context().close();
  });
});
