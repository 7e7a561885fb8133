import { BillingOS } from "@billingos/node";

// Run with the key `pnpm start` printed:  BILLINGOS_SECRET_KEY=sk_test_… pnpm quickstart
const billing = new BillingOS({ secretKey: process.env.BILLINGOS_SECRET_KEY! });

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
