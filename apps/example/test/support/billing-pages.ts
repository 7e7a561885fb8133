// What both browser tests do with the example's pages: sign in, read the billing page, sign out,
// and check what BillingOS and the app's server say about it.
import { BillingOS } from "@billingos/node";
import type { Browser, BrowserContextOptions, Page } from "playwright-core";
import { expect } from "vitest";
import type { ExampleStack } from "./example-stack";

/** A phone (an iPhone 14's CSS pixels). */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

export interface TestPage {
  page: Page;
  /** Requests the page made to another machine (it must make none). */
  offMachine: string[];
}

/** A fresh browser profile; every request the page makes must stay on this machine. */
export async function newPage(
  browser: Browser,
  options: BrowserContextOptions = { viewport: { width: 1000, height: 900 } },
  timeoutMs = 20_000,
): Promise<TestPage> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.setDefaultNavigationTimeout(timeoutMs);
  const offMachine: string[] = [];
  page.on("request", (request) => {
    const { protocol, hostname } = new URL(request.url());
    if (protocol !== "data:" && hostname !== "127.0.0.1" && hostname !== "localhost") offMachine.push(request.url());
  });
  return { page, offMachine };
}

/** Fills in the sign-in form (the page must be on /sign-in) and submits it. */
export async function submitSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByTestId("sign-in-email").fill(email);
  await page.getByTestId("sign-in-password").fill(password);
  await page.getByTestId("sign-in-submit").click();
}

/** Waits for the billing page to show what BillingOS answered: it fails if it stays "loading" (or errs). */
export async function billingPageReady(page: Page, timeoutMs = 20_000): Promise<void> {
  await expect
    .poll(() => page.getByTestId("billing-status").getAttribute("data-status"), { timeout: timeoutMs })
    .toBe("ready");
}

export async function shownTokenId(page: Page, timeoutMs?: number): Promise<string> {
  await billingPageReady(page, timeoutMs);
  return (await page.getByTestId("session-token-id").textContent()) ?? "";
}

/** The ids of the customer's tokens that BillingOS would still accept. */
export async function activeTokenIds(stack: ExampleStack, externalUserId: string): Promise<string[]> {
  const billing = new BillingOS({ secretKey: stack.secretKey, sandboxUrl: stack.serverUrl });
  const page = await billing.listSessionTokens({ externalUserId, status: "active" });
  return page.data.map((token) => token.tokenId);
}

/** What BillingOS answers a browser holding this token (200, or 401 once it is revoked). */
export async function sessionGetStatus(stack: ExampleStack, sessionToken: string): Promise<number> {
  const response = await fetch(`${stack.serverUrl}/trpc/session.get`, {
    headers: { authorization: `Bearer ${sessionToken}` },
  });
  await response.body?.cancel();
  return response.status;
}

/**
 * Signs out with the header's button (on whatever signed-in page `page` is), then checks that the
 * app's session is over and that BillingOS accepts no token of the customer any more.
 */
export async function signOutLeavesNoActiveToken(
  stack: ExampleStack,
  page: Page,
  externalUserId: string,
): Promise<void> {
  await page.getByTestId("sign-out").click();
  await page.waitForURL(`${stack.appUrl}/`);
  await expect.poll(() => page.getByTestId("home-signed-out").isVisible()).toBe(true);
  await expect.poll(() => page.getByTestId("header-sign-in").isVisible()).toBe(true);
  expect(await activeTokenIds(stack, externalUserId)).toEqual([]);
  // And the merchant app's own session is over: its route refuses this browser a new token.
  const again = await page.request.post(`${stack.appUrl}/api/billingos-session`);
  expect(again.status()).toBe(401);
}

/** The page is no wider than the screen: nothing to scroll sideways to. */
export async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const { scrollWidth, clientWidth, path } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    path: location.pathname,
  }));
  expect(scrollWidth, `${path} is ${scrollWidth} px wide on a ${clientWidth} px screen`).toBeLessThanOrEqual(
    clientWidth,
  );
}

/**
 * Signs in with a wrong password and checks both ends: the page says so in words, and the app's
 * server prints no error and no stack trace for it (a visitor's typo is not a fault), only its one
 * line saying a sign-in was refused.
 */
export async function wrongPasswordIsRefusedQuietly(stack: ExampleStack, page: Page, email: string): Promise<void> {
  await page.goto(`${stack.appUrl}/sign-in`);
  const before = stack.appOutput().length;
  await submitSignIn(page, email, "not-demo");
  await expect.poll(() => page.getByTestId("sign-in-error").isVisible()).toBe(true);
  expect(await page.getByTestId("sign-in-error").textContent()).toBe(
    "Wrong email or password. Any email address works with the password demo.",
  );
  expect(page.url()).toContain("/sign-in");
  await expect.poll(() => stack.appOutput().slice(before)).toContain("[auth] sign-in refused: wrong email or password");
  const printed = stack.appOutput().slice(before);
  expect(printed).not.toMatch(/Error:/);
  expect(printed).not.toMatch(/^\s+at\s/m);
  expect(printed).not.toContain(email);
}

/** An element's text as the browser laid it out: one string a line. */
export function renderedLines(page: Page, testId: string): Promise<string[]> {
  return page.getByTestId(testId).evaluate((element) => {
    const lines: string[] = [];
    let lineTop = Number.NEGATIVE_INFINITY;
    const range = document.createRange();
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? "";
      for (let index = 0; index < text.length; index++) {
        range.setStart(node, index);
        range.setEnd(node, index + 1);
        const box = range.getClientRects()[0];
        if (!box) continue;
        if (box.top > lineTop + box.height / 2) {
          lines.push("");
          lineTop = box.top;
        }
        lines[lines.length - 1] += text.charAt(index);
      }
    }
    return lines;
  });
}

/** A long email address wraps, but only after a dot or a hyphen or before the @, never inside a word. */
export async function expectEmailWrapsBetweenWords(page: Page, testId: string, email: string): Promise<void> {
  const lines = await renderedLines(page, testId);
  expect(lines.join("")).toBe(email);
  expect(lines.length, `${testId} should wrap on a phone`).toBeGreaterThan(1);
  for (let line = 1; line < lines.length; line++) {
    const [before, after] = [lines[line - 1]!, lines[line]!];
    expect(/[.-]$/.test(before) || after.startsWith("@"), `${testId} breaks "${before}" | "${after}"`).toBe(true);
  }
}
