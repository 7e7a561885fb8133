"use client";

import { BillingOSError, useBillingOS, useCustomer, useSession } from "@billingos/react";
import { EmailAddress } from "@/app/email-address";
import { formatTime } from "@/lib/format-time";

function describe(error: unknown): string {
  if (error instanceof BillingOSError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

// Sign-out is in the header, on every page (sign-out-button.tsx).
export function BillingPanel() {
  const billingos = useBillingOS();
  const customerQuery = useCustomer();
  const sessionQuery = useSession();

  const error = billingos.error ?? customerQuery.error ?? sessionQuery.error;
  if (billingos.status === "error" || (error && (!customerQuery.data || !sessionQuery.data))) {
    return (
      <section className="card" data-testid="billing-status" data-status="error">
        <p className="error" role="alert" data-testid="billing-error">
          {describe(error)}
        </p>
      </section>
    );
  }

  if (billingos.status === "signed-out") {
    return (
      <section className="card" data-testid="billing-status" data-status="signed-out">
        You are signed out of BillingOS.
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
          <dd data-testid="customer-email">{customer.email ? <EmailAddress address={customer.email} /> : "none"}</dd>
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
              {formatTime(session.expiresAt)}
            </time>
          </dd>
          <dt>Operations</dt>
          <dd data-testid="session-operations">{session.operations.join(", ")}</dd>
        </dl>
      </div>
    </section>
  );
}
