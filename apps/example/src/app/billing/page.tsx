import { BillingOSProvider } from "@billingos/react";
import { redirect } from "next/navigation";
import { EmailAddress } from "@/app/email-address";
import { auth } from "@/auth";
import { billingosUrls } from "@/lib/billingos-urls";
import { BillingPanel } from "./billing-panel";

export default async function BillingPage() {
  const session = await auth();
  if (!session) redirect("/sign-in");
  return (
    <main>
      <h1>Billing</h1>
      <p className="muted">
        Signed in to the merchant app as{" "}
        <b className="value" data-testid="app-user-email">
          <EmailAddress address={session.user.email} />
        </b>
        . Everything below comes straight from BillingOS, called from this browser with a session token.
      </p>
      {/* Asks POST /api/billingos-session for the token, keeps it fresh, revokes it on sign-out. */}
      <BillingOSProvider {...billingosUrls}>
        <BillingPanel />
      </BillingOSProvider>
    </main>
  );
}
