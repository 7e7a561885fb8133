// @vitest-environment node
import { renderToString } from "react-dom/server";
import { afterEach, describe, expect, it } from "vitest";
import { type BillingOSStack, startBillingOSStack } from "./support/billingos-stack.js";

// On the server (no window, no document): importing the package touches nothing of the browser, and
// rendering the provider fetches no token; it renders "loading" for the browser to take over.

let stack: BillingOSStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("server rendering", () => {
  it("imports with no window and renders loading without fetching a token", async () => {
    expect(typeof window).toBe("undefined");
    const { BillingOSProvider, useBillingOS, useCustomer, useSession } = await import("../src/index.js");
    stack = await startBillingOSStack({ user: { id: "user_ssr" } });
    let asked = 0;
    function Page() {
      const { status } = useBillingOS();
      const customer = useCustomer();
      const session = useSession();
      return (
        <p>
          {status} {String(customer.isLoading)} {String(session.isLoading)}
        </p>
      );
    }
    const html = renderToString(
      <BillingOSProvider
        getSessionToken={async () => {
          asked += 1;
          return null;
        }}
      >
        <Page />
      </BillingOSProvider>,
    );
    expect(html).toBe("<p>loading<!-- --> <!-- -->true<!-- --> <!-- -->true</p>");
    // Also with the default route: nothing is asked of it.
    renderToString(
      <BillingOSProvider sessionRoute={stack.route.url}>
        <Page />
      </BillingOSProvider>,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(asked).toBe(0);
    expect(stack.route.handedOut).toHaveLength(0);
  });

  it("a hook outside the provider says where it belongs", async () => {
    const { useCustomer } = await import("../src/index.js");
    function Orphan() {
      useCustomer();
      return null;
    }
    expect(() => renderToString(<Orphan />)).toThrow("useCustomer() must be called inside <BillingOSProvider>");
  });
});
