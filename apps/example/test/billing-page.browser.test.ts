// The example merchant app in a real browser: Debian's headless Chromium driven by playwright-core,
// against the real BillingOS server and a production build of the app (see support/example-stack.ts).
// billing-page-dev.browser.test.ts does the same through `pnpm dev`'s `next dev`.
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BillingOS } from "@billingos/node";
import { BillingOSError, createSessionClient } from "@billingos/node/session";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoUserId } from "../src/lib/demo-user";
import { formatTime } from "../src/lib/format-time";
import {
  activeTokenIds,
  billingPageReady,
  expectEmailWrapsBetweenWords,
  expectNoHorizontalOverflow,
  newPage,
  PHONE,
  sessionGetStatus,
  shownTokenId,
  signOutLeavesNoActiveToken,
  submitSignIn,
  wrongPasswordIsRefusedQuietly,
} from "./support/billing-pages";
import { chromiumInstalled, launchChromium, requireChromium } from "./support/chromium";
import { type BuiltExampleStack, SESSION_EXPIRES_IN, startExampleStack } from "./support/example-stack";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

requireChromium("the example app's browser test");

describe.runIf(chromiumInstalled)("the example merchant app in Chromium (next start)", () => {
  let stack: BuiltExampleStack | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    stack = await startExampleStack();
    console.info(`next build took ${stack.buildSeconds.toFixed(1)} s`);
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("refuses a session token to a visitor who is not signed in (401)", async () => {
    const response = await fetch(`${stack!.appUrl}/api/billingos-session`, { method: "POST" });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Not signed in" });
  });

  it("signs in, keeps one token across page views and reloads, refreshes it before expiry, and sign-out leaves none active", {
    timeout: 180_000,
  }, async () => {
    // A reader in New York: the expiry is shown in their zone, and says which zone that is.
    const { page, offMachine } = await newPage(browser!, {
      viewport: { width: 1000, height: 900 },
      locale: "en-US",
      timezoneId: "America/New_York",
    });
    const email = "ada.lovelace@example.com";
    const userId = demoUserId(email);

    // The billing page needs a signed-in user: it sends a visitor to the sign-in form.
    await page.goto(`${stack!.appUrl}/billing`);
    await page.waitForURL(/\/sign-in/);

    const tokenResponse = page.waitForResponse(
      (response) =>
        response.url() === `${stack!.appUrl}/api/billingos-session` && response.request().method() === "POST",
    );
    await submitSignIn(page, email, "demo");
    await page.waitForURL(`${stack!.appUrl}/billing`);

    const fromRoute = await tokenResponse;
    expect(fromRoute.status()).toBe(200);
    const { sessionToken, expiresAt } = (await fromRoute.json()) as { sessionToken: string; expiresAt: string };
    expect(sessionToken).toMatch(/^bos_session_test_/);

    // The page called BillingOS itself (cross-origin, with the token) and shows what it answered.
    const firstTokenId = await shownTokenId(page);
    expect(await page.getByTestId("header-user").textContent()).toBe(email);
    expect(await page.getByTestId("customer-external-user-id").textContent()).toBe(userId);
    expect(await page.getByTestId("customer-email").textContent()).toBe(email);
    expect(await page.getByTestId("stripe-customer").textContent()).toBe("none");
    expect(await page.getByTestId("session-environment").textContent()).toBe("test");
    const expiry = page.getByTestId("session-expires-at");
    expect(await expiry.getAttribute("datetime")).toBe(new Date(expiresAt).toISOString());
    // "Dec 2, 2026, 11:31:15 AM EST": the time in the reader's zone, named.
    const zone = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", timeZoneName: "short" })
      .formatToParts(new Date(expiresAt))
      .find((part) => part.type === "timeZoneName")?.value;
    expect(zone).toMatch(/^E[SD]T$/);
    expect(await expiry.textContent()).toBe(formatTime(new Date(expiresAt), "en-US", "America/New_York"));
    expect(await expiry.textContent()).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d [AP]M ${zone}$`));

    // The same token works outside the browser too, until the page signs out.
    const client = createSessionClient({ sessionToken, sandboxUrl: stack!.serverUrl });
    expect((await client.getSession()).tokenId).toBe(firstTokenId);

    // One token per browser: a reload and another visit of the page get the same one back.
    await page.reload();
    expect(await shownTokenId(page)).toBe(firstTokenId);
    await page.getByRole("link", { name: "Home", exact: true }).click();
    await page.waitForURL(`${stack!.appUrl}/`);
    await page.getByRole("link", { name: "Billing", exact: true }).click();
    await page.waitForURL(`${stack!.appUrl}/billing`);
    expect(await shownTokenId(page)).toBe(firstTokenId);
    expect(await activeTokenIds(stack!, userId)).toEqual([firstTokenId]);

    await page.screenshot({ path: `${ARTIFACTS}billing.png`, fullPage: true });

    // Before the token expires (SESSION_EXPIRES_IN seconds here), the page fetches the next one and shows it; the
    // route revokes the one it replaces, so the browser still holds one live token.
    await expect
      .poll(() => page.getByTestId("session-token-id").textContent(), {
        timeout: SESSION_EXPIRES_IN * 1000,
        interval: 1_000,
      })
      .not.toBe(firstTokenId);
    expect(Date.now()).toBeLessThan(new Date(expiresAt).getTime());
    const secondTokenId = await shownTokenId(page);
    expect(await activeTokenIds(stack!, userId)).toEqual([secondTokenId]);
    expect(await sessionGetStatus(stack!, sessionToken)).toBe(401);

    // Another browser of the same customer holds a token too; sign-out ends every one of them.
    const elsewhere = await new BillingOS({
      secretKey: stack!.secretKey,
      sandboxUrl: stack!.serverUrl,
    }).createSessionToken({
      externalUserId: userId,
    });
    expect(await activeTokenIds(stack!, userId)).toHaveLength(2);

    // Sign-out from the billing page (the header's button).
    await signOutLeavesNoActiveToken(stack!, page, userId);

    // No token of the customer is active any more: a copy of one gets 401, through fetch and the session client.
    expect(await sessionGetStatus(stack!, elsewhere.sessionToken)).toBe(401);
    const refused = await client.getCustomer().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BillingOSError);
    expect((refused as BillingOSError).code).toBe("UNAUTHORIZED");

    expect(offMachine).toEqual([]);
    await page.context().close();
  });

  it("on a phone (390 px): nothing to scroll sideways on any page, long values wrap, and sign-out works from the home page", {
    timeout: 120_000,
  }, async () => {
    const { page, offMachine } = await newPage(browser!, PHONE);
    // A long address: it and the ids must wrap inside the screen.
    const email = "ada.augusta.king.countess.of.lovelace@analytical-engine.example.com";
    const userId = demoUserId(email);

    await page.goto(`${stack!.appUrl}/`);
    await expectNoHorizontalOverflow(page);
    await page.goto(`${stack!.appUrl}/sign-in`);
    await expectNoHorizontalOverflow(page);
    await submitSignIn(page, email, "wrong");
    await expect.poll(() => page.getByTestId("sign-in-error").isVisible()).toBe(true);
    await expectNoHorizontalOverflow(page);
    await page.screenshot({ path: `${ARTIFACTS}sign-in-mobile.png`, fullPage: true });

    await submitSignIn(page, email, "demo");
    await page.waitForURL(`${stack!.appUrl}/billing`);
    await billingPageReady(page);
    expect(await page.getByTestId("customer-email").textContent()).toBe(email);
    await expectNoHorizontalOverflow(page);
    await expectEmailWrapsBetweenWords(page, "customer-email", email);
    await expectEmailWrapsBetweenWords(page, "header-user", email);
    // Labels stand above their values: a value starts at the card's left edge, under its label.
    const label = await page.locator("dt").first().boundingBox();
    const value = await page.getByTestId("customer-external-user-id").boundingBox();
    expect(value!.x).toBe(label!.x);
    expect(value!.y).toBeGreaterThan(label!.y);
    await page.screenshot({ path: `${ARTIFACTS}billing-mobile.png`, fullPage: true });
    expect(await activeTokenIds(stack!, userId)).toHaveLength(1);

    // Sign-out from the home page: the header is on every signed-in page.
    await page.getByRole("link", { name: "Home", exact: true }).click();
    await page.waitForURL(`${stack!.appUrl}/`);
    await expect.poll(() => page.getByTestId("home-signed-in").isVisible()).toBe(true);
    expect(await page.getByTestId("header-user").textContent()).toBe(email);
    await expectNoHorizontalOverflow(page);
    await page.screenshot({ path: `${ARTIFACTS}home-mobile.png`, fullPage: true });
    await signOutLeavesNoActiveToken(stack!, page, userId);
    await expectNoHorizontalOverflow(page);

    expect(offMachine).toEqual([]);
    await page.context().close();
  });

  it("refuses a wrong password with words on the page and no stack trace in the server's output", async () => {
    const { page } = await newPage(browser!);
    await wrongPasswordIsRefusedQuietly(stack!, page, "grace@example.com");
    await page.context().close();
  });

  it("shows the Stripe customer bound on first sign-in; the same email is the same customer", async () => {
    // A customer the merchant imported from Stripe binds to the user at the first token with that email.
    const billing = new BillingOS({ secretKey: stack!.secretKey, sandboxUrl: stack!.serverUrl });
    await billing.importCustomers({
      customers: [{ stripeCustomerId: "cus_GraceHopper1906", email: "grace@example.com", name: "Grace Hopper" }],
    });

    const { page } = await newPage(browser!);
    await page.goto(`${stack!.appUrl}/sign-in`);
    await submitSignIn(page, "  Grace@Example.com ", "demo");
    await page.waitForURL(`${stack!.appUrl}/billing`);
    await billingPageReady(page);
    expect(await page.getByTestId("customer-external-user-id").textContent()).toBe(demoUserId("grace@example.com"));
    expect(await page.getByTestId("customer-email").textContent()).toBe("grace@example.com");
    expect(await page.getByTestId("stripe-customer").textContent()).toBe("cus_GraceHopper1906 (Grace Hopper)");
    await page.screenshot({ path: `${ARTIFACTS}billing-stripe-customer.png`, fullPage: true });
    await page.context().close();
  });

  // Last: it stops the BillingOS server.
  it("keeps the visitor signed in, and says so, when their tokens cannot be revoked (BillingOS is down)", {
    timeout: 90_000,
  }, async () => {
    const { page } = await newPage(browser!);
    const email = "offline@example.com";
    await page.goto(`${stack!.appUrl}/sign-in`);
    await submitSignIn(page, email, "demo");
    await page.waitForURL(`${stack!.appUrl}/billing`);
    await billingPageReady(page);

    await stack!.stopServer();
    await page.getByTestId("sign-out").click();
    await expect
      .poll(() => page.getByTestId("sign-out-error").textContent(), { timeout: 60_000 })
      .toMatch(/^Could not end your billing session \(HTTP 5\d\d\); please try again\.$/);
    // Still signed in: a sign-out that leaves live tokens behind is not one.
    expect(page.url()).toBe(`${stack!.appUrl}/billing`);
    expect(await page.getByTestId("header-user").textContent()).toBe(email);
    await page.context().close();
  });
});
