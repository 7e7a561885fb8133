import NextAuth, { CredentialsSignin, type DefaultSession } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { authorizeDemoUser } from "@/lib/demo-user";

declare module "next-auth" {
  interface Session {
    // The merchant's user id, which the session-token route sends to BillingOS as externalUserId.
    user: { id: string } & DefaultSession["user"];
  }
}

/**
 * A fixed secret so the demo runs with no setup. It signs the demo's session cookies only; a real
 * app sets AUTH_SECRET (e.g. `openssl rand -base64 32`) and never ships a default.
 */
const DEMO_AUTH_SECRET = "billingos-example-app-demo-secret-not-for-production";

export const { handlers, auth, signIn, signOut } = NextAuth({
  secret: process.env.AUTH_SECRET || process.env.NEXTAUTH_SECRET || DEMO_AUTH_SECRET,
  // The demo runs on localhost behind no proxy; next-auth otherwise refuses `next start` hosts.
  trustHost: true,
  session: { strategy: "jwt" },
  pages: { signIn: "/sign-in" },
  providers: [
    Credentials({
      name: "Demo",
      credentials: {
        email: { label: "Email", type: "email" },
        password: { label: "Password", type: "password" },
      },
      authorize: async (credentials) => authorizeDemoUser(credentials.email, credentials.password),
    }),
  ],
  logger: {
    error(error) {
      // A wrong password is the visitor's mistake, answered on the page ("Wrong email or password"):
      // one line for whoever watches the terminal, not next-auth's default stack trace of a fault.
      if (error instanceof CredentialsSignin) {
        console.info("[auth] sign-in refused: wrong email or password");
        return;
      }
      console.error("[auth][error]", error);
    },
  },
  callbacks: {
    session({ session, token }) {
      // With JWT sessions the user id lives in the token's `sub` (set from authorize's `id`).
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
});
