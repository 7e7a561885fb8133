import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { auth } from "@/auth";
import { EmailAddress } from "./email-address";
import { SignOutButton } from "./sign-out-button";
import "./globals.css";

export const metadata: Metadata = {
  title: "Example merchant app · BillingOS",
  description: "A merchant app that hands BillingOS session tokens to the browser.",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  return (
    <html lang="en">
      <body>
        <header className="site">
          <strong>Acme (example merchant)</strong>
          <nav>
            <Link href="/">Home</Link>
            <Link href="/billing">Billing</Link>
          </nav>
          {/* Who is signed in, and the way out, on every page. */}
          <div className="account">
            {session ? (
              <>
                <span className="value" data-testid="header-user">
                  <EmailAddress address={session.user.email} />
                </span>
                <SignOutButton />
              </>
            ) : (
              <Link href="/sign-in" data-testid="header-sign-in">
                Sign in
              </Link>
            )}
          </div>
        </header>
        {children}
      </body>
    </html>
  );
}
