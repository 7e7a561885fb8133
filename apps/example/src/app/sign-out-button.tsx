"use client";

import { DEFAULT_SESSION_ROUTE } from "@billingos/react";
import { useState, useTransition } from "react";
import { signOutOfApp } from "@/app/actions";

/**
 * Sign-out, on every signed-in page. First every BillingOS token of this customer is revoked (the
 * session route's DELETE, the same call @billingos/react's signOut() makes), so a copy held anywhere
 * is refused from then on; then the merchant app's own session ends. If the tokens could not be
 * revoked, the visitor stays signed in and is told, rather than leaving live tokens behind.
 */
export function SignOutButton() {
  const [error, setError] = useState<string | null>(null);
  const [signingOut, startSignOut] = useTransition();

  const signOut = () =>
    startSignOut(async () => {
      setError(null);
      const response = await fetch(DEFAULT_SESSION_ROUTE, { method: "DELETE", credentials: "same-origin" }).catch(
        () => null,
      );
      // 401: the app's session has already ended, so there is no customer left to revoke for.
      if (!response || (!response.ok && response.status !== 401)) {
        setError(
          `Could not end your billing session${response ? ` (HTTP ${response.status})` : ""}; please try again.`,
        );
        return;
      }
      await signOutOfApp();
    });

  return (
    <span className="sign-out">
      <button type="button" onClick={signOut} disabled={signingOut} data-testid="sign-out">
        {signingOut ? "Signing out…" : "Sign out"}
      </button>
      {error ? (
        <span className="error" role="alert" data-testid="sign-out-error">
          {error}
        </span>
      ) : null}
    </span>
  );
}
