"use client";

import { BillingOSError, useBillingOS, useCustomer, useSession } from "@billingos/react";
import { useState, useTransition } from "react";
import { signOutOfApp } from "@/app/actions";

function describe(error: unknown): string {
  if (error instanceof BillingOSError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function BillingPanel() {
  const billingos = useBillingOS();
  const customerQuery = useCustomer();
  const sessionQuery = useSession();
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const [signingOut, startSignOut] = useTransition();

  const signOut = () =>
    startSignOut(async () => {
      try {
        // The token in hand, then every token of this customer (the route's DELETE): from here on
        // BillingOS refuses them, whoever holds a copy. Then the merchant app's own session.
        await billingos.signOut();
      } catch (error) {
        setSignOutError(describe(error));
        return;
      }
      await signOutOfApp();
    });

  const signOutButton = (
    <button type="button" onClick={signOut} disabled={signingOut} data-testid="sign-out">
      {signingOut ? "Signing out…" : "Sign out"}
    </button>
  );

  const error = billingos.error ?? customerQuery.error ?? sessionQuery.error;
  if (billingos.status === "error" || (error && (!customerQuery.data || !sessionQuery.data))) {
    return (
      <section className="card" data-testid="billing-status" data-status="error">
        <p className="error" role="alert" data-testid="billing-error">
          {describe(error)}
        </p>
        {signOutButton}
      </section>
    );
  }

  if (billingos.status === "signed-out") {
    return (
      <section className="card" data-testid="billing-status" data-status="signed-out">
        You are signed out of BillingOS.
        {signOutError ? (
          <p className="error" role="alert" data-testid="sign-out-error">
            Could not revoke every token: {signOutError}
          </p>
        ) : null}
      </section>
    );
  }

  const customer = customerQuery.data;
  const session = sessionQuery.data;
  if (!customer || !session) {
    return (
      <section className="card" data-testid="billing-status" data-status="loading">
        Loading your billing details…
      </section>
    );
  }

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
      {signOutButton}
    </section>
  );
}
