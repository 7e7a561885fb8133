import { redirect } from "next/navigation";
import { signInWithDemo } from "@/app/actions";
import { auth } from "@/auth";

/** What went wrong, in words for the visitor (`error` is next-auth's error type; nothing else is shown). */
function signInProblem(error: string): string {
  return error === "CredentialsSignin"
    ? "Wrong email or password. Any email address works with the password demo."
    : "Sign-in did not work this time. Please try again.";
}

interface SignInPageProps {
  searchParams: Promise<{ error?: string | string[] }>;
}

export default async function SignInPage({ searchParams }: SignInPageProps) {
  if (await auth()) redirect("/billing");
  const { error } = await searchParams;
  return (
    <main>
      <h1>Sign in</h1>
      <form className="card" action={signInWithDemo}>
        <p className="muted">
          Demo sign-in: any email address, password <code>demo</code>. The same email always gets the same user id.
        </p>
        {error ? (
          <p className="error" role="alert" data-testid="sign-in-error">
            {signInProblem(Array.isArray(error) ? (error[0] ?? "") : error)}
          </p>
        ) : null}
        <label htmlFor="email">Email</label>
        <input id="email" name="email" type="email" autoComplete="email" required data-testid="sign-in-email" />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          data-testid="sign-in-password"
        />
        <button type="submit" data-testid="sign-in-submit">
          Sign in
        </button>
      </form>
    </main>
  );
}
