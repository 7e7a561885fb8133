"use client";

import {
  type BillingOSSession,
  BillingOSError,
  createSessionClient,
  type CurrentSession,
  type SessionCustomerView,
} from "@billingos/node/session";
import { useEffect, useRef, useState, useTransition } from "react";
import { signOutOfApp } from "@/app/actions";
import { billingosUrls } from "@/lib/billingos-urls";

type PanelState =
  | { status: "loading" }
  | { status: "ready"; client: BillingOSSession; session: CurrentSession; customer: SessionCustomerView }
  | { status: "error"; message: string };

interface SessionTokenResponse {
  sessionToken: string;
  expiresAt: string;
}

/** Asks the merchant backend (the documented route) for a token for the signed-in user. */
async function fetchSessionToken(): Promise<SessionTokenResponse> {
  const response = await fetch("/api/billingos-session", { method: "POST" });
  if (response.status === 401) throw new Error("You are not signed in to the merchant app.");
  if (!response.ok) throw new Error(`The merchant backend could not create a session token (HTTP ${response.status}).`);
  return (await response.json()) as SessionTokenResponse;
}

function describe(error: unknown): string {
  if (error instanceof BillingOSError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function BillingPanel() {
  const [state, setState] = useState<PanelState>({ status: "loading" });
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const [signingOut, startSignOut] = useTransition();
  // React's strict mode runs effects twice in development; one token per page view is enough.
  const started = useRef(false);

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    (async () => {
      const { sessionToken } = await fetchSessionToken();
      const client = createSessionClient({ sessionToken, ...billingosUrls });
      const [session, customer] = await Promise.all([client.getSession(), client.getCustomer()]);
      setState({ status: "ready", client, session, customer });
    })().catch((error: unknown) => setState({ status: "error", message: describe(error) }));
  }, []);

  const signOut = () =>
    startSignOut(async () => {
      if (state.status === "ready") {
        try {
          // Revoke the token first: from here on BillingOS refuses it, whoever holds a copy.
          await state.client.signOut();
        } catch (error) {
          // An already expired or revoked token is as signed out as it gets; still end the app session.
          if (!(error instanceof BillingOSError && error.code === "UNAUTHORIZED")) {
            setSignOutError(describe(error));
            return;
          }
        }
      }
      await signOutOfApp();
    });

  if (state.status === "loading") {
    return (
      <section className="card" data-testid="billing-status" data-status="loading">
        Loading your billing details…
      </section>
    );
  }

  if (state.status === "error") {
    return (
      <section className="card" data-testid="billing-status" data-status="error">
        <p className="error" role="alert" data-testid="billing-error">
          {state.message}
        </p>
        <button type="button" onClick={signOut} disabled={signingOut} data-testid="sign-out">
          Sign out
        </button>
      </section>
    );
  }

  const { customer, session } = state;
  return (
    <section data-testid="billing-status" data-status="ready">
      <div className="card">
        <h2>Customer</h2>
        <dl>
          <dt>User id (externalUserId)</dt>
          <dd data-testid="customer-external-user-id">{customer.externalUserId}</dd>
          <dt>Email</dt>
          <dd data-testid="customer-email">{customer.email ?? "none"}</dd>
          <dt>Organization</dt>
          <dd data-testid="customer-organization">{customer.externalOrganizationId ?? "none"}</dd>
          <dt>Stripe customer</dt>
          <dd data-testid="stripe-customer">
            {customer.stripeCustomer
              ? `${customer.stripeCustomer.stripeCustomerId}${customer.stripeCustomer.name ? ` (${customer.stripeCustomer.name})` : ""}`
              : "none"}
          </dd>
        </dl>
      </div>
      <div className="card">
        <h2>Session</h2>
        <dl>
          <dt>Token id</dt>
          <dd data-testid="session-token-id">{session.tokenId}</dd>
          <dt>Environment</dt>
          <dd data-testid="session-environment">{session.environment}</dd>
          <dt>Expires</dt>
          <dd>
            <time dateTime={session.expiresAt.toISOString()} data-testid="session-expires-at">
              {session.expiresAt.toLocaleString()}
            </time>
          </dd>
          <dt>Operations</dt>
          <dd data-testid="session-operations">{session.operations.join(", ")}</dd>
        </dl>
      </div>
      {signOutError ? (
        <p className="error" role="alert" data-testid="sign-out-error">
          Could not sign out of BillingOS: {signOutError}
        </p>
      ) : null}
      <button type="button" onClick={signOut} disabled={signingOut} data-testid="sign-out">
        {signingOut ? "Signing out…" : "Sign out"}
      </button>
    </section>
  );
}
