// A merchant's CommonJS script: require()s the installed @billingos/node and its session entry,
// creates a session token on the server at BILLINGOS_URL, verifies it, reads it back through the
// session client, revokes it, and prints what it saw as one JSON line.
const { BillingOS, BillingOSError } = require("@billingos/node");
const session = require("@billingos/node/session");

async function main() {
  const url = process.env.BILLINGOS_URL;
  const billing = new BillingOS({ secretKey: process.env.BILLINGOS_SECRET_KEY, sandboxUrl: url, productionUrl: url });
  const created = await billing.createSessionToken({ externalUserId: "user_cjs", email: "cjs@example.com" });
  const verified = await billing.verifySessionToken(created.sessionToken);
  const current = await session
    .createSessionClient({ sessionToken: created.sessionToken, sandboxUrl: url })
    .getSession();
  await billing.revokeSessionToken(created.sessionToken);
  const afterRevoke = await billing.verifySessionToken(created.sessionToken);
  let refused;
  try {
    await billing.createSessionToken({ externalUserId: "" });
  } catch (error) {
    refused = error;
  }
  return {
    resolved: require.resolve("@billingos/node"),
    sessionResolved: require.resolve("@billingos/node/session"),
    verified: verified.valid ? verified.customer.externalUserId : verified.reason,
    sessionTokenId: current.tokenId === created.tokenId,
    afterRevoke: afterRevoke.valid ? "valid" : afterRevoke.reason,
    refusedCode: refused instanceof BillingOSError ? refused.code : String(refused),
    oneErrorClass: session.BillingOSError === BillingOSError,
  };
}

main().then(
  (seen) => console.log(JSON.stringify(seen)),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
