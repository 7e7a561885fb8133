// The example merchant app in a real browser: Debian's headless Chromium driven by playwright-core,
// against the real BillingOS server and a production build of the app (see support/example-stack.ts).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BillingOS } from "@billingos/node";
import { BillingOSError, createSessionClient } from "@billingos/node/session";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoUserId } from "../src/lib/demo-user";
import { chromiumInstalled, INSTALL_HINT, isCI, launchChromium } from "./support/chromium";
import { type ExampleStack, SESSION_EXPIRES_IN, startExampleStack } from "./support/example-stack";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

if (!chromiumInstalled) {
  if (isCI()) {
    it("has Chromium to run the browser test", () => {
      throw new Error(INSTALL_HINT);
    });
  } else {
    console.warn(`Skipping the example app's browser test. ${INSTALL_HINT}`);
  }
}

describe.runIf(chromiumInstalled)("the example merchant app in Chromium", () => {
  let stack: ExampleStack | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    stack = await startExampleStack();
    console.info(`next build took ${stack.buildSeconds.toFixed(1)} s`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** A fresh browser profile; every request the page makes must stay on this machine. */
  async function newPage(): Promise<{ page: Page; offMachine: string[] }> {
    const context = await browser!.newContext({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const offMachine: string[] = [];
    page.on("request", (request) => {
      const { protocol, hostname } = new URL(request.url());
      if (protocol !== "data:" && hostname !== "127.0.0.1" && hostname !== "localhost") offMachine.push(request.url());
    });
    return { page, offMachine };
  }

  async function sessionGetStatus(sessionToken: string): Promise<number> {
    const response = await fetch(`${stack!.serverUrl}/trpc/session.get`, {
      headers: { authorization: `Bearer ${sessionToken}` },
    });
    return response.status;
  }

  it("refuses a session token to a visitor who is not signed in (401)", async () => {
    const response = await fetch(`${stack!.appUrl}/api/billingos-session`, { method: "POST" });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "Not signed in" });
  });

  /** The ids of the customer's tokens that BillingOS would still accept. */
  async function activeTokenIds(externalUserId: string): Promise<string[]> {
    const billing = new BillingOS({ secretKey: stack!.secretKey, sandboxUrl: stack!.serverUrl });
    const page = await billing.listSessionTokens({ externalUserId, status: "active" });
    return page.data.map((token) => token.tokenId);
  }

  async function shownTokenId(page: Page): Promise<string> {
    await expect.poll(() => page.getByTestId("billing-status").getAttribute("data-status")).toBe("ready");
    return (await page.getByTestId("session-token-id").textContent()) ?? "";
  }

  it("signs in, keeps one token across page views and reloads, refreshes it before expiry, and sign-out leaves none active", {
    timeout: 180_000,
  }, async () => {
    const { page, offMachine } = await newPage();
    const email = "ada.lovelace@example.com";
    const userId = demoUserId(email);

    // The billing page needs a signed-in user: it sends a visitor to the sign-in form.
    await page.goto(`${stack!.appUrl}/billing`);
    await page.waitForURL(/\/sign-in/);

    await page.getByTestId("sign-in-email").fill(email);
    await page.getByTestId("sign-in-password").fill("demo");
    const tokenResponse = page.waitForResponse(
      (response) =>
        response.url() === `${stack!.appUrl}/api/billingos-session` && response.request().method() === "POST",
    );
    await page.getByTestId("sign-in-submit").click();
    await page.waitForURL(`${stack!.appUrl}/billing`);

    const fromRoute = await tokenResponse;
    expect(fromRoute.status()).toBe(200);
    const { sessionToken, expiresAt } = (await fromRoute.json()) as { sessionToken: string; expiresAt: string };
    expect(sessionToken).toMatch(/^bos_session_test_/);

    // The page called BillingOS itself (cross-origin, with the token) and shows what it answered.
    const firstTokenId = await shownTokenId(page);
    expect(await page.getByTestId("customer-external-user-id").textContent()).toBe(userId);
    expect(await page.getByTestId("customer-email").textContent()).toBe(email);
    expect(await page.getByTestId("stripe-customer").textContent()).toBe("none");
    expect(await page.getByTestId("session-environment").textContent()).toBe("test");
    expect(await page.getByTestId("session-expires-at").getAttribute("datetime")).toBe(
      new Date(expiresAt).toISOString(),
    );

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
    expect(await activeTokenIds(userId)).toEqual([firstTokenId]);

    mkdirSync(ARTIFACTS, { recursive: true });
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
    expect(await activeTokenIds(userId)).toEqual([secondTokenId]);
    expect(await sessionGetStatus(sessionToken)).toBe(401);

    // Another browser of the same customer holds a token too; sign-out ends every one of them.
    const elsewhere = await new BillingOS({
      secretKey: stack!.secretKey,
      sandboxUrl: stack!.serverUrl,
    }).createSessionToken({
      externalUserId: userId,
    });
    expect(await activeTokenIds(userId)).toHaveLength(2);

    await page.getByTestId("sign-out").click();
    await page.waitForURL(`${stack!.appUrl}/`);
    await expect.poll(() => page.getByTestId("home-signed-out").isVisible()).toBe(true);

    // No token of the customer is active any more: a copy of one gets 401, through fetch and the session client.
    expect(await activeTokenIds(userId)).toEqual([]);
    expect(await sessionGetStatus(elsewhere.sessionToken)).toBe(401);
    const refused = await client.getCustomer().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BillingOSError);
    expect((refused as BillingOSError).code).toBe("UNAUTHORIZED");

    // And the merchant app's own session is over: its route refuses this browser a new token.
    const again = await page.request.post(`${stack!.appUrl}/api/billingos-session`);
    expect(again.status()).toBe(401);

    expect(offMachine).toEqual([]);
    await page.context().close();
  });

  it("shows the Stripe customer bound on first sign-in; the same email is the same customer; a wrong password is refused", async () => {
    // A customer the merchant imported from Stripe binds to the user at the first token with that email.
    const billing = new BillingOS({ secretKey: stack!.secretKey, sandboxUrl: stack!.serverUrl });
    await billing.importCustomers({
      customers: [{ stripeCustomerId: "cus_GraceHopper1906", email: "grace@example.com", name: "Grace Hopper" }],
    });

    const { page } = await newPage();
    await page.goto(`${stack!.appUrl}/sign-in`);
    await page.getByTestId("sign-in-email").fill("grace@example.com");
    await page.getByTestId("sign-in-password").fill("not-demo");
    await page.getByTestId("sign-in-submit").click();
    await expect.poll(() => page.getByTestId("sign-in-error").isVisible()).toBe(true);

    await page.getByTestId("sign-in-email").fill("  Grace@Example.com ");
    await page.getByTestId("sign-in-password").fill("demo");
    await page.getByTestId("sign-in-submit").click();
    await page.waitForURL(`${stack!.appUrl}/billing`);
    await expect.poll(() => page.getByTestId("billing-status").getAttribute("data-status")).toBe("ready");
    expect(await page.getByTestId("customer-external-user-id").textContent()).toBe(demoUserId("grace@example.com"));
    expect(await page.getByTestId("customer-email").textContent()).toBe("grace@example.com");
    expect(await page.getByTestId("stripe-customer").textContent()).toBe("cus_GraceHopper1906 (Grace Hopper)");
    await page.screenshot({ path: `${ARTIFACTS}billing-stripe-customer.png`, fullPage: true });
    await page.context().close();
  });
});
