import { it } from "vitest";
import { openDatabase } from "../src/db/database.js";
import { createApiKey, authenticateSecretKey } from "../src/api-keys/api-keys.service.js";
import { importCustomers } from "../src/customers/customers.service.js";
import { ManualClock } from "../src/shared/clock.js";
import { stripeCustomers } from "./customers/support.js";
import { importCustomersInput } from "@billingos/contracts";
it("measure", async () => {
  const db = await openDatabase({ path: `/tmp/imp/m${Date.now()}.sqlite` });
  const clock = new ManualClock(Date.now());
  const key = await createApiKey(db, clock, { organizationName: "A", environment: "test" });
  const scope = await authenticateSecretKey(db, `Bearer ${key.secretKey}`, ["test"]);
  for (let r = 0; r < 6; r++) {
    const input = importCustomersInput.parse({ customers: stripeCustomers(`r${r}x`, 1000) });
    const t = performance.now();
    await importCustomers({ db, clock }, scope, input);
    const t2 = performance.now();
    await importCustomers({ db, clock }, scope, input);
    console.log("new", (t2 - t).toFixed(1), "ms; reimport", (performance.now() - t2).toFixed(1));
  }
});
