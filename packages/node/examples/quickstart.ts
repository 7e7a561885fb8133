import { BillingOS, BillingOSError } from "@billingos/node";

// Run with the key `pnpm start` printed:  BILLINGOS_SECRET_KEY=sk_test_… pnpm quickstart
// (the client sends test keys to BILLINGOS_SANDBOX_URL, default http://localhost:4000).
const billing = new BillingOS({ secretKey: process.env.BILLINGOS_SECRET_KEY! });

async function main(): Promise<void> {
  const { sessionToken, tokenId, expiresAt } = await billing.createSessionToken({
    externalUserId: "user_123",
    email: "user@example.com",
    allowedOperations: ["customer:read"],
    metadata: { ip: "203.0.113.9" },
  });
  console.log("created ", tokenId, "expires", expiresAt.toISOString());
  console.log("token   ", sessionToken);

  console.log("verify  ", await billing.verifySessionToken(sessionToken, { operation: "customer:read" }));

  const { revokedAt } = await billing.revokeSessionToken(tokenId);
  console.log("revoked ", revokedAt.toISOString());
  console.log("verify  ", await billing.verifySessionToken(sessionToken));
}

// A failure is one line (the URL tried, or what is wrong with the key), not a stack trace.
main().catch((error: unknown) => {
  console.error(error instanceof BillingOSError ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
