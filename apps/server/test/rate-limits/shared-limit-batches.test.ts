import { MAX_IMPORT_BATCH } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { DatabaseRateLimiter } from "../../src/rate-limits/database-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { stripeCustomers } from "../customers/support.js";
import { countSessionTokens, START_TIME } from "../harness.js";
import { send } from "../security/http-client.js";
import { openTestStore } from "../support/test-store.js";

// A shared limiter answers asynchronously: the calls of one batched request run side by side while
// it is asked. Neither the per-key limit nor the per-request import cap may be got around by that.

let store: Store;
let server: RunningHttpServer;
let key: CreatedApiKey;
const clock = new ManualClock(START_TIME);

beforeEach(async () => {
  store = await openTestStore();
  key = await createApiKey(store, clock, { organizationName: "Acme", environment: "test" });
  server = await startHttpServer({
    deps: {
      store,
      clock,
      logger: createLogger("silent"),
      createRateLimiter: new DatabaseRateLimiter("create", 3, store, clock),
      importRateLimiter: new DatabaseRateLimiter("import", 60_000, store, clock),
    },
    port: 0,
    host: "127.0.0.1",
  });
});

afterEach(async () => {
  await server.close(1_000);
  await store.close();
});

type BatchItem = { result?: unknown; error?: { json?: { data: { code: string } } } & { data?: { code: string } } };
const codesOf = (items: BatchItem[]) =>
  items.map((item) => (item.result !== undefined ? "OK" : (item.error?.json?.data ?? item.error?.data)?.code));

function batch(procedure: string, inputs: unknown[]) {
  return send(server.port, {
    method: "POST",
    path: `/trpc/${Array(inputs.length).fill(procedure).join(",")}?batch=1`,
    headers: { authorization: `Bearer ${key.secretKey}`, "content-type": "application/json" },
    body: JSON.stringify(Object.fromEntries(inputs.map((input, i) => [i, input]))),
  });
}

describe("batched requests with the database limiter", () => {
  it("8 creates in one request with a limit of 3 store exactly 3 tokens; the others get 429", async () => {
    const answer = await batch(
      "sessionTokens.create",
      Array.from({ length: 8 }, (_, i) => ({ externalUserId: `user_${i}` })),
    );
    const codes = codesOf(JSON.parse(answer.body) as BatchItem[]);
    expect(codes.filter((code) => code === "OK")).toHaveLength(3);
    expect(codes.filter((code) => code === "TOO_MANY_REQUESTS")).toHaveLength(5);
    expect(await countSessionTokens(store)).toBe(3);
  });

  it("10 imports of a full batch in one request: one is imported, the 9 others get 413", async () => {
    const answer = await batch(
      "customers.import",
      Array.from({ length: 10 }, (_, i) => ({ customers: stripeCustomers(`b${i}x`, MAX_IMPORT_BATCH) })),
    );
    const codes = codesOf(JSON.parse(answer.body) as BatchItem[]);
    expect(codes.filter((code) => code === "OK")).toHaveLength(1);
    expect(codes.filter((code) => code === "PAYLOAD_TOO_LARGE")).toHaveLength(9);
    const { count } = await store.kysely
      .selectFrom("imported_customers")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(MAX_IMPORT_BATCH);
  });
});
