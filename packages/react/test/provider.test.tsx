import { act, cleanup, render, screen, waitFor } from "@testing-library/react";
import { StrictMode } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { BillingOSError, BillingOSProvider, useBillingOS, useCustomer, useSession } from "../src/index.js";
import {
  activeTokensOf,
  type BillingOSStack,
  type RouteSettings,
  startBillingOSStack,
} from "./support/billingos-stack.js";

let stack: BillingOSStack | undefined;
afterEach(async () => {
  cleanup();
  await stack?.close();
  stack = undefined;
});

const ADA = { id: "user_ada", email: "ada@example.com" };

async function start(settings: Partial<RouteSettings> = {}): Promise<BillingOSStack> {
  stack = await startBillingOSStack({ user: ADA, ...settings });
  return stack;
}

function Status() {
  const { status, error } = useBillingOS();
  return (
    <p data-testid="status" data-error={error?.message ?? ""}>
      {status}
    </p>
  );
}

function CustomerId({ n = 0 }: { n?: number }) {
  const { data, error, isLoading } = useCustomer();
  if (isLoading) return <p data-testid={`customer-${n}`}>loading</p>;
  if (error) return <p data-testid={`customer-${n}`}>{error instanceof BillingOSError ? error.code : error.message}</p>;
  return <p data-testid={`customer-${n}`}>{data?.externalUserId}</p>;
}

function TokenId() {
  const { data, error } = useSession();
  return <p data-testid="token-id">{error ? `error ${(error as BillingOSError).code}` : (data?.tokenId ?? "none")}</p>;
}

function SignOutButton() {
  const { signOut } = useBillingOS();
  return (
    <button type="button" onClick={() => void signOut()}>
      sign out
    </button>
  );
}

function renderApp(s: BillingOSStack, children: React.ReactNode, extra: { refreshMarginSeconds?: number } = {}) {
  return render(
    <BillingOSProvider sessionRoute={s.route.url} sandboxUrl={s.serverUrl} productionUrl={s.serverUrl} {...extra}>
      <Status />
      {children}
    </BillingOSProvider>,
  );
}

const text = (testId: string) => screen.getByTestId(testId).textContent;

describe("BillingOSProvider against a real BillingOS server and session route", () => {
  it("fetches one token for many components asking at once, and shows what BillingOS answers", async () => {
    const s = await start({ delayMs: 100 });
    renderApp(
      s,
      <>
        {[0, 1, 2, 3, 4].map((n) => (
          <CustomerId key={n} n={n} />
        ))}
        <TokenId />
      </>,
    );
    expect(text("status")).toBe("loading");
    await waitFor(() => expect(text("customer-4")).toBe(ADA.id));
    for (const n of [0, 1, 2, 3]) expect(text(`customer-${n}`)).toBe(ADA.id);
    expect(text("status")).toBe("ready");
    // Six readers, one token: the route was asked once, and never twice at the same moment.
    expect(s.route.handedOut).toHaveLength(1);
    expect(s.route.maxConcurrentPosts).toBe(1);
    await waitFor(() => expect(text("token-id")).not.toBe("none"));
    expect(await activeTokensOf(s.merchant, ADA.id)).toEqual([text("token-id")]);
  });

  it("under StrictMode (effects run twice) still fetches one token", async () => {
    const s = await start();
    render(
      <StrictMode>
        <BillingOSProvider sessionRoute={s.route.url} sandboxUrl={s.serverUrl}>
          <Status />
          <CustomerId />
        </BillingOSProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    expect(s.route.handedOut).toHaveLength(1);
  });

  it("reports signed-out when the merchant backend says nobody is signed in (401), and fetches no token", async () => {
    const s = await start({ user: null });
    renderApp(s, <CustomerId />);
    await waitFor(() => expect(text("status")).toBe("signed-out"));
    expect(text("customer-0")).not.toBe(ADA.id);
    expect(s.route.handedOut).toHaveLength(0);
  });

  it("refreshes the token before it expires, and the hooks show the new one", async () => {
    const s = await start();
    // BillingOS's clock runs 50 s behind: each 60 s token has about 6 s left when it arrives, so
    // the provider must fetch the next one within seconds (a third of the remaining lifetime before).
    s.clock.offsetMs = -54_000;
    s.route.settings.expiresIn = 60;
    renderApp(s, <TokenId />);
    await waitFor(() => expect(text("status")).toBe("ready"));
    await waitFor(() => expect(text("token-id")).toMatch(/\S/));
    const first = text("token-id");
    await waitFor(() => expect(s.route.handedOut.length).toBeGreaterThanOrEqual(2), { timeout: 15_000 });
    const [firstGrant, secondGrant] = s.route.handedOut;
    // Asked for ahead of expiry, not after it.
    expect(secondGrant!.at).toBeLessThan(new Date(firstGrant!.expiresAt).getTime());
    await waitFor(() => expect(text("token-id")).not.toBe(first));
    expect(text("status")).toBe("ready");
  });

  it("a 401 (the token revoked elsewhere) fetches one fresh token and carries on", async () => {
    const s = await start();
    let refetch: () => void = () => {};
    function Customer() {
      const query = useCustomer();
      refetch = query.refetch;
      return <p data-testid="customer-0">{query.error ? "error" : (query.data?.externalUserId ?? "…")}</p>;
    }
    renderApp(s, <Customer />);
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    await s.merchant.revokeCustomerSessionTokens({ externalUserId: ADA.id });
    act(() => refetch());
    await waitFor(() => expect(s.route.handedOut).toHaveLength(2));
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    expect(text("status")).toBe("ready");
    expect(await activeTokensOf(s.merchant, ADA.id)).toHaveLength(1);
  });

  it("a token that expired while the machine slept is replaced on the next call", async () => {
    const s = await start();
    let refetch: () => void = () => {};
    function Customer() {
      const query = useCustomer();
      refetch = query.refetch;
      return <p data-testid="customer-0">{query.error ? "error" : (query.data?.externalUserId ?? "…")}</p>;
    }
    renderApp(s, <Customer />);
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    // Two hours pass for BillingOS while the page's timers did not run: the token in hand is expired.
    s.clock.offsetMs = 2 * 3_600_000;
    act(() => refetch());
    await waitFor(() => expect(s.route.handedOut).toHaveLength(2));
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    expect(text("status")).toBe("ready");
  });

  it("a second 401 in a row reports signed-out instead of asking again and again", async () => {
    const s = await start();
    let refetch: () => void = () => {};
    function Customer() {
      const query = useCustomer();
      refetch = query.refetch;
      return (
        <p data-testid="customer-0">
          {query.error ? `error ${(query.error as BillingOSError).code}` : (query.data?.externalUserId ?? "…")}
        </p>
      );
    }
    renderApp(s, <Customer />);
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    // From now on the backend hands out tokens BillingOS refuses (revoked before they leave it).
    s.route.settings.revokeBeforeHanding = true;
    await s.merchant.revokeCustomerSessionTokens({ externalUserId: ADA.id });
    act(() => refetch());
    await waitFor(() => expect(text("status")).toBe("signed-out"));
    // Signed out: the customer read with the old token is no longer shown.
    expect(text("customer-0")).toBe("…");
    // One fresh token, then no more.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.route.handedOut).toHaveLength(2);
  });

  it("a 403 for an operation outside the token's scope is an error of that call, not a retry", async () => {
    const s = await start({ allowedOperations: ["session:read"] });
    renderApp(
      s,
      <>
        <CustomerId />
        <TokenId />
      </>,
    );
    await waitFor(() => expect(text("customer-0")).toBe("FORBIDDEN"));
    await waitFor(() => expect(text("token-id")).not.toBe("none"));
    expect(text("status")).toBe("ready");
    expect(s.route.handedOut).toHaveLength(1);
  });

  it("sign-out revokes the token in hand and every other token of the customer, then clears the state", async () => {
    const s = await start();
    // Another browser of the same customer holds a token too.
    const elsewhere = await s.merchant.createSessionToken({ externalUserId: ADA.id });
    renderApp(
      s,
      <>
        <CustomerId />
        <SignOutButton />
      </>,
    );
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    expect(await activeTokensOf(s.merchant, ADA.id)).toHaveLength(2);
    act(() => screen.getByRole("button").click());
    await waitFor(() => expect(text("status")).toBe("signed-out"));
    expect(text("customer-0")).not.toBe(ADA.id);
    expect(s.route.deletes).toBe(1);
    expect(await activeTokensOf(s.merchant, ADA.id)).toEqual([]);
    expect(await s.merchant.verifySessionToken(elsewhere.sessionToken)).toEqual({ valid: false, reason: "revoked" });
    expect(await s.merchant.verifySessionToken(s.route.handedOut[0]!.sessionToken)).toEqual({
      valid: false,
      reason: "revoked",
    });
    // Signed out stays signed out: no new token is fetched behind the user's back.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.route.handedOut).toHaveLength(1);
  });

  it("after sign-out, another user signing in never sees the previous user's customer", async () => {
    const s = await start();
    const shown: string[] = [];
    let actions: ReturnType<typeof useBillingOS> | undefined;
    function Customer() {
      actions = useBillingOS();
      const { data } = useCustomer();
      shown.push(`${actions.status}:${data?.externalUserId ?? "-"}`);
      return <p data-testid="customer-0">{data?.externalUserId ?? "-"}</p>;
    }
    renderApp(s, <Customer />);
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    await act(() => actions!.signOut());
    const afterSignOut = shown.length;
    s.route.settings.user = { id: "user_grace" };
    act(() => actions!.retry());
    await waitFor(() => expect(text("customer-0")).toBe("user_grace"));
    expect(shown.slice(afterSignOut).filter((entry) => entry.endsWith(ADA.id))).toEqual([]);
    expect(await activeTokensOf(s.merchant, ADA.id)).toEqual([]);
  });

  it("a failing backend is status error with the reason; retry() starts over once it works again", async () => {
    const s = await start({ failWith: 500 });
    let retry: () => void = () => {};
    function Retry() {
      retry = useBillingOS().retry;
      return null;
    }
    renderApp(
      s,
      <>
        <Retry />
        <CustomerId />
      </>,
    );
    await waitFor(() => expect(text("status")).toBe("error"));
    expect(screen.getByTestId("status").dataset.error).toMatch(/HTTP 500/);
    delete s.route.settings.failWith;
    act(() => retry());
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    expect(text("status")).toBe("ready");
  });

  it("retry() while a token is being fetched starts over after it, never with two fetches at once", async () => {
    const s = await start({ delayMs: 300 });
    let retry: () => void = () => {};
    function Retry() {
      retry = useBillingOS().retry;
      return null;
    }
    renderApp(
      s,
      <>
        <Retry />
        <CustomerId />
      </>,
    );
    expect(text("status")).toBe("loading");
    act(() => retry());
    await waitFor(() => expect(text("customer-0")).toBe(ADA.id));
    expect(s.route.handedOut).toHaveLength(2);
    expect(s.route.maxConcurrentPosts).toBe(1);
  });

  it("a backend answering something that is not a session token is an error, and nothing is sent to BillingOS", async () => {
    const s = await start();
    render(
      <BillingOSProvider
        getSessionToken={async () => ({
          sessionToken: "sk_test_not_a_session_token",
          expiresAt: new Date(Date.now() + 60_000),
        })}
      >
        <Status />
      </BillingOSProvider>,
    );
    await waitFor(() => expect(text("status")).toBe("error"));
    expect(screen.getByTestId("status").dataset.error).toMatch(/bos_session_test_/);
    expect(s.route.handedOut).toHaveLength(0);
  });
});
