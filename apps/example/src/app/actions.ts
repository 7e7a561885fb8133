"use server";

import { redirect } from "next/navigation";
import { AuthError } from "next-auth";
import { signIn, signOut } from "@/auth";

/** The sign-in form's action: the demo credentials provider, then on to the billing page. */
export async function signInWithDemo(formData: FormData): Promise<void> {
  try {
    await signIn("credentials", {
      email: formData.get("email"),
      password: formData.get("password"),
      redirectTo: "/billing",
    });
  } catch (error) {
    // Success is a redirect, thrown as an error that Next.js handles; only auth failures stop here.
    if (error instanceof AuthError) redirect(`/sign-in?error=${encodeURIComponent(error.type)}`);
    throw error;
  }
}

/** Ends the merchant app's own session (the BillingOS token is revoked by the page first). */
export async function signOutOfApp(): Promise<void> {
  await signOut({ redirectTo: "/" });
}
