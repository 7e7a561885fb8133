import Link from "next/link";
import { EmailAddress } from "@/app/email-address";
import { auth } from "@/auth";

export default async function HomePage() {
  const session = await auth();
  return (
    <main>
      <h1>Example merchant app</h1>
      <p className="muted">
        Signing in here is the merchant&apos;s own login (next-auth, demo credentials). The billing page then asks this
        app&apos;s backend for a BillingOS session token and talks to BillingOS from the browser with it.
      </p>
      <div className="card">
        {session ? (
          <p data-testid="home-signed-in">
            Signed in as{" "}
            <b className="value">
              <EmailAddress address={session.user.email} />
            </b>
            . <Link href="/billing">Open billing</Link>
          </p>
        ) : (
          <p data-testid="home-signed-out">
            Not signed in. <Link href="/sign-in">Sign in</Link> with any email and the password <code>demo</code>.
          </p>
        )}
      </div>
    </main>
  );
}
