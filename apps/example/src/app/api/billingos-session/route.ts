import { BillingOS } from "@billingos/node";
import { auth } from "@/auth";

const billing = new BillingOS({ secretKey: process.env.BILLINGOS_SECRET_KEY! });

export async function POST() {
  const session = await auth();
  if (!session) {
    return Response.json({ error: "Not signed in" }, { status: 401 });
  }

  const { sessionToken, expiresAt } = await billing.createSessionToken({
    externalUserId: session.user.id,
    email: session.user.email,
  });

  return Response.json({ sessionToken, expiresAt });
}
