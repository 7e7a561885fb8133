import { BillingOS } from "@billingos/node";
import { cookies } from "next/headers";
import { auth } from "@/auth";

const billing = new BillingOS({ secretKey: process.env.BILLINGOS_SECRET_KEY! });

// The documented route (README, "In a Next.js app"), plus reuse: a browser keeps one token. The token
// handed out last is kept in an httpOnly cookie; while it is still valid, is this user's and is not
// near its expiry, POST hands it out again instead of minting another (across page views and
// reloads). When it is replaced, it is revoked, so a browser never holds two live tokens.

const COOKIE = "billingos_session_token";
/** Seconds a token lives (60–86400). The browser test shortens it to see a refresh happen. */
const EXPIRES_IN = Number(process.env.BILLINGOS_SESSION_EXPIRES_IN) || 3600;
/**
 * A kept token is handed out again only while more than this is left of it. @billingos/react asks
 * for the next token a minute (or a third of the lifetime) before expiry: by then this must say no.
 */
const REUSE_WHILE_MORE_THAN_MS = Math.min(5 * 60_000, (EXPIRES_IN * 1000) / 2);

export async function POST(request: Request) {
  const session = await auth();
  if (!session) {
    return Response.json({ error: "Not signed in" }, { status: 401 });
  }

  const jar = await cookies();
  const kept = jar.get(COOKIE)?.value;
  if (kept) {
    const verified = await billing.verifySessionToken(kept);
    if (
      verified.valid &&
      verified.customer.externalUserId === session.user.id &&
      verified.expiresAt.getTime() - Date.now() > REUSE_WHILE_MORE_THAN_MS
    ) {
      return Response.json({ sessionToken: kept, expiresAt: verified.expiresAt });
    }
    // Near its end, or another user's (who left without signing out): this browser is done with it.
    if (verified.valid) await billing.revokeSessionToken(verified.tokenId);
  }

  const { sessionToken, expiresAt } = await billing.createSessionToken({
    externalUserId: session.user.id,
    email: session.user.email,
    expiresIn: EXPIRES_IN,
  });

  jar.set(COOKIE, sessionToken, {
    httpOnly: true,
    sameSite: "strict",
    secure: new URL(request.url).protocol === "https:",
    path: "/api/billingos-session",
    expires: expiresAt,
  });
  return Response.json({ sessionToken, expiresAt });
}

// Sign-out (@billingos/react's signOut() calls it): every token of this customer, not only the one
// the browser holds.
export async function DELETE() {
  (await cookies()).delete({ name: COOKIE, path: "/api/billingos-session" });
  const session = await auth();
  if (!session) {
    return Response.json({ error: "Not signed in" }, { status: 401 });
  }

  const { revokedCount } = await billing.revokeCustomerSessionTokens({ externalUserId: session.user.id });

  return Response.json({ revokedCount });
}
