import { it } from "vitest";
import { startServerHarness } from "../server-harness.js";
it("bench", async () => {
  const h = await startServerHarness();
  const c = h.client(h.testKey.secretKey);
  for (const dryRun of [false, false, true]) {
    const t = performance.now();
    for (let b = 0; b < 50; b++) {
      const customers = Array.from({ length: 1000 }, (_, i) => ({ stripeCustomerId: `cus_${b}x${i}`, email: `u${(b*1000+i)%40000}@x.com`, name: "N", metadata: i % 10 === 0 ? { user_id: `u${b}_${i}` } : { plan: "pro" }, createdAt: new Date().toISOString() }));
      await c.importCustomers({ customers, dryRun });
    }
    console.log(dryRun, performance.now() - t);
  }
  await h.close();
}, 300000);
