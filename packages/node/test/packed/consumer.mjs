// A merchant's ES module: imports the installed @billingos/node and its session entry, creates a
// session token on the server at BILLINGOS_URL, verifies it, reads it back through the session
// client, revokes it, and prints what it saw as one JSON line.
import { fileURLToPath } from "node:url";
import { BillingOS, BillingOSError } from "@billingos/node";
import * as session from "@billingos/node/session";

const url = process.env.BILLINGOS_URL;
const billing = new BillingOS({ secretKey: process.env.BILLINGOS_SECRET_KEY, sandboxUrl: url, productionUrl: url });
const created = await billing.createSessionToken({ externalUserId: "user_esm", email: "esm@example.com" });
const verified = await billing.verifySessionToken(created.sessionToken);
const current = await session.createSessionClient({ sessionToken: created.sessionToken, sandboxUrl: url }).getSession();
await billing.revokeSessionToken(created.sessionToken);
const afterRevoke = await billing.verifySessionToken(created.sessionToken);
let refused;
try {
  await billing.createSessionToken({ externalUserId: "" });
} catch (error) {
  refused = error;
}
console.log(
  JSON.stringify({
    resolved: fileURLToPath(import.meta.resolve("@billingos/node")),
    sessionResolved: fileURLToPath(import.meta.resolve("@billingos/node/session")),
    verified: verified.valid ? verified.customer.externalUserId : verified.reason,
    sessionTokenId: current.tokenId === created.tokenId,
    afterRevoke: afterRevoke.valid ? "valid" : afterRevoke.reason,
    refusedCode: refused instanceof BillingOSError ? refused.code : String(refused),
    oneErrorClass: session.BillingOSError === BillingOSError,
  }),
);
