import { errorData, MAX_FIELD_ERRORS, MAX_IMPORT_BATCH } from "@billingos/contracts";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import { openTestStore } from "../support/test-store.js";
import { send } from "./http-client.js";
import { checkProperty, PROPERTY_TIMEOUT_MS, tableNames, writeFootprint } from "./support.js";

// Error answers are bounded whatever the input. A body of ~95,000 short unknown keys
// (`{"0":1,"1":1,…}`, 0.9 MB) to sessionTokens.create once came back as a 400 of 6 MB whose
// message and fieldErrors listed every key: 64 such requests at once took the server from 660 MB
// to 1.8 GB and stalled other tenants. The answer now names the first fields and counts the rest.

/** Far above what the bounded answer takes (about 1 KiB), far below what the unbounded one took. */
const MAX_ANSWER_BYTES = 8 * 1024;

let db: Store;
let server: RunningHttpServer;
let key: CreatedApiKey;

beforeAll(async () => {
  db = await openTestStore();
  const clock = new ManualClock(START_TIME);
  key = await createApiKey(db, clock, { organizationName: "Acme", environment: "test" });
  server = await startHttpServer({
    deps: { store: db, clock, logger: createLogger("silent") },
    port: 0,
    host: "127.0.0.1",
  });
});

afterAll(async () => {
  await server.close(1_000);
  await db.close();
});

interface ErrorAnswer {
  status: number;
  bytes: number;
  message: string;
  data: ReturnType<typeof errorData.parse>;
}

async function post(path: string, body: string): Promise<ErrorAnswer> {
  const answer = await send(server.port, {
    method: "POST",
    path: `/trpc/${path}`,
    headers: { authorization: `Bearer ${key.secretKey}`, "content-type": "application/json" },
    body,
  });
  const { error } = JSON.parse(answer.body) as { error: { message: string; data: unknown } };
  return {
    status: answer.status,
    bytes: Buffer.byteLength(answer.body),
    message: error.message,
    data: errorData.parse(error.data),
  };
}

/** `{"externalUserId":"u","0":1,"1":1,…}` with `count` unknown keys, as the attacker sent it. */
const manyUnknownKeys = (count: number, name: (i: number) => string = String) =>
  `{"externalUserId":"u",${Array.from({ length: count }, (_, i) => `${JSON.stringify(name(i))}:1`).join(",")}}`;

describe("error answers stay small whatever the input", () => {
  it("95,000 unknown keys to sessionTokens.create: a 400 under 8 KiB naming the first unknown fields and the count", async () => {
    const body = manyUnknownKeys(95_000);
    expect(body.length).toBeGreaterThan(900_000);
    const tables = await tableNames(db);
    const before = await writeFootprint(db, tables);
    const answer = await post("sessionTokens.create", body);
    expect(answer.status).toBe(400);
    expect(answer.data.code).toBe("BAD_REQUEST");
    expect(answer.bytes).toBeLessThan(MAX_ANSWER_BYTES);
    expect(answer.message).toMatch(/^Invalid input: 0: Unknown field "0"\. 1: Unknown field "1"\./);
    expect(answer.message).toContain("… and 94,990 more unknown fields");
    expect(Object.keys(answer.data.fieldErrors ?? {})).toHaveLength(MAX_FIELD_ERRORS);
    expect(answer.data.fieldErrors?.["0"]).toEqual(['Unknown field "0"']);
    expect(answer.data.unlistedUnknownFields).toBe(95_000 - MAX_FIELD_ERRORS);
    expect(await writeFootprint(db, tables)).toEqual(before);
  });

  it("customers.import with 1,000 bad customers: a 400 under 8 KiB listing the first and counting the rest", async () => {
    const customers = Array.from({ length: MAX_IMPORT_BATCH }, (_, i) => ({
      stripeCustomerId: `bad_${"z".repeat(800)}_${i}`,
      email: i,
    }));
    const answer = await post("customers.import", JSON.stringify({ customers }));
    expect(answer.status).toBe(400);
    expect(answer.bytes).toBeLessThan(MAX_ANSWER_BYTES);
    expect(answer.data.fieldErrors?.["customers.0.stripeCustomerId"]).toEqual([
      "stripeCustomerId must be a Stripe customer id (cus_…)",
    ]);
    expect(answer.data.unlistedProblems).toBe(2 * MAX_IMPORT_BATCH - MAX_FIELD_ERRORS);
    expect(answer.message).toContain("… and 1,990 more problems");
  });

  it(
    "property: random many-key objects and arrays of bad customers get a bounded answer that counts every problem",
    async () => {
      const keyName = fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[a-z]{1,12}$/), fc.nat().map(String));
      const manyKeys = fc
        .record({ count: fc.integer({ min: 1, max: 20_000 }), prefix: keyName })
        .map(({ count, prefix }) => ({
          path: "sessionTokens.create",
          body: manyUnknownKeys(count, (i) => `${prefix}${i}`),
          problems: count,
        }));
      const badCustomer = fc.record(
        {
          stripeCustomerId: fc.oneof(fc.string({ maxLength: 300 }), fc.integer()),
          email: fc.oneof(fc.integer(), fc.string({ minLength: 513, maxLength: 600 })),
          extra: fc.constant(1),
        },
        // An unknown field in each: every customer is refused at least once.
        { requiredKeys: ["stripeCustomerId", "extra"] },
      );
      const badCustomers = fc.array(badCustomer, { minLength: 1, maxLength: MAX_IMPORT_BATCH }).map((customers) => ({
        path: "customers.import",
        body: JSON.stringify({ customers }),
        problems: customers.length,
      }));
      await checkProperty(
        "bounded error answers",
        fc.asyncProperty(fc.oneof(manyKeys, badCustomers), async ({ path, body, problems }) => {
          const answer = await post(path, body);
          expect(answer.status).toBe(400);
          expect(answer.bytes, `${path}: ${answer.bytes} bytes`).toBeLessThan(MAX_ANSWER_BYTES);
          const listed = Object.values(answer.data.fieldErrors ?? {}).flat().length;
          expect(Object.keys(answer.data.fieldErrors ?? {}).length).toBeLessThanOrEqual(MAX_FIELD_ERRORS);
          // Nothing vanishes: what is not listed is counted (at least one problem per unknown key or customer).
          const counted = listed + (answer.data.unlistedUnknownFields ?? 0) + (answer.data.unlistedProblems ?? 0);
          expect(counted).toBeGreaterThanOrEqual(problems);
        }),
        { numRuns: 40 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
