import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { runCliCaptured, stripeImportArgs, tempDir } from "./cli-harness.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";

// A customer whose binding was undone (BillingOS.unbindCustomer) stays unbound when the import runs
// again, even though its metadata names a user, and the report counts it apart.

let h: ServerHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("billingos import stripe after an unbind", () => {
  it("the import CLI's report counts an undone customer as binding_undone, and does not bind it from metadata again", async () => {
    h = await startServerHarness();
    const billing = h.client(h.testKey.secretKey);
    const files = tempDir();
    try {
      const file = files.path("customers.json");
      writeFileSync(file, JSON.stringify([{ id: "cus_M1", email: "m@example.com", metadata: { user_id: "user_m" } }]));
      const args = stripeImportArgs(file, h.testKey.secretKey, h.url);
      expect((await runCliCaptured(args)).code).toBe(0);
      expect((await billing.getCustomer({ stripeCustomerId: "cus_M1" })).externalUserId).toBe("user_m");

      await billing.unbindCustomer("cus_M1");
      const again = await runCliCaptured(args);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(
        /^ {2}unresolved: +1 \(awaiting_first_session 0, no_email 0, email_shared 0, binding_undone 1\)$/m,
      );
      expect((await billing.getCustomer({ stripeCustomerId: "cus_M1" })).externalUserId).toBeNull();
    } finally {
      files.remove();
    }
  });
});
