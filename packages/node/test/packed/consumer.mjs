// A merchant's ES module: imports the installed @billingos/node and its session entry, creates a
// session token on the server at BILLINGOS_URL, verifies it, reads it back through the session
// client, revokes it, and prints what it saw as one JSON line.
import { createRequire } from "node:module";
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
// The same app may also load the CommonJS build (a bundler beside a require): its errors are still
// `instanceof` this build's BillingOSError, and the other way round.
const commonJs = createRequire(import.meta.url)("@billingos/node");
let refusedByCommonJs;
try {
  await new commonJs.BillingOS({ secretKey: process.env.BILLINGOS_SECRET_KEY, sandboxUrl: url }).createSessionToken({
    externalUserId: "",
  });
} catch (error) {
  refusedByCommonJs = error;
}
const errorsAcrossBuilds =
  commonJs.BillingOSError !== BillingOSError &&
  refusedByCommonJs instanceof BillingOSError &&
  refused instanceof commonJs.BillingOSError &&
  !(new Error("plain") instanceof commonJs.BillingOSError);
console.log(
  JSON.stringify({
    errorsAcrossBuilds,
    resolved: fileURLToPath(import.meta.resolve("@billingos/node")),
    sessionResolved: fileURLToPath(import.meta.resolve("@billingos/node/session")),
    verified: verified.valid ? verified.customer.externalUserId : verified.reason,
    sessionTokenId: current.tokenId === created.tokenId,
    afterRevoke: afterRevoke.valid ? "valid" : afterRevoke.reason,
    refusedCode: refused instanceof BillingOSError ? refused.code : String(refused),
    oneErrorClass: session.BillingOSError === BillingOSError,
  }),
);
