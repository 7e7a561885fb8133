import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: "Example merchant app · BillingOS",
  description: "A merchant app that hands BillingOS session tokens to the browser.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="site">
          <strong>Acme (example merchant)</strong>
          <Link href="/">Home</Link>
          <Link href="/billing">Billing</Link>
        </header>
        {children}
      </body>
    </html>
  );
}
