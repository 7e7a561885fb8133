import { writeFileSync } from "node:fs";
import { BillingOSError } from "@billingos/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, parseReport, runCliCaptured, stripeImportArgs, tempDir } from "./cli-harness.js";
import { NOWHERE, rejectionOf, type ServerHarness, startServerHarness } from "./server-harness.js";

describe("billingos import stripe: formats, dry runs and bad rows", () => {
  let harness: ServerHarness;
  const files = tempDir();
  const importArgs = (file: string, key: string, ...rest: string[]) =>
    stripeImportArgs(file, key, harness.url, ...rest);

  beforeAll(async () => {
    harness = await startServerHarness();
  });
  afterAll(async () => {
    await harness.close();
    files.remove();
  });

  it("imports a Stripe API list object and maps id, email, name, metadata and created", async () => {
    const { secretKey } = await harness.createKey("List object", "test");
    const run = await runCliCaptured(importArgs(fixture("customers-list.json"), secretKey));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/format: +Stripe API list object/);
    expect(parseReport(run.stdout)).toMatchObject({
      rowsRead: 3,
      created: 3,
      preBound: 1,
      unresolved: { awaiting_first_session: 1, no_email: 1, email_shared: 0 },
      skipped: 0,
    });

    const client = harness.client(secretKey);
    expect(await client.getCustomer({ stripeCustomerId: "cus_PzLst0001Ada" })).toMatchObject({
      email: "ada@example.com",
      name: "Ada Lovelace",
      metadata: { plan: "pro", user_id: "user_ada" },
      createdAt: new Date("2023-04-05T12:34:56.000Z"),
      externalUserId: "user_ada",
      boundBy: "metadata",
    });
    // Empty metadata and null fields arrive as nothing, not as empty values.
    expect(await client.getCustomer({ stripeCustomerId: "cus_PzLst0003NoMail" })).toMatchObject({
      email: null,
      name: null,
      metadata: { source: "kiosk" },
    });
    expect((await client.getCustomer({ stripeCustomerId: "cus_PzLst0002Grace" })).metadata).toBeNull();
  });

  it("maps the dashboard CSV of the same customers to the same values: importing it after the JSON changes nothing", async () => {
    const { secretKey } = await harness.createKey("Both formats", "test");
    expect((await runCliCaptured(importArgs(fixture("customers-list.json"), secretKey))).code).toBe(0);
    const csv = await runCliCaptured(importArgs(fixture("customers-export.csv"), secretKey));
    expect(csv.code).toBe(0);
    expect(csv.stdout).toMatch(/format: +Stripe dashboard CSV export/);
    expect(parseReport(csv.stdout)).toMatchObject({ rowsRead: 3, created: 0, updated: 0, unchanged: 3, skipped: 0 });
  });

  it("imports a JSON array of customers", async () => {
    const { secretKey } = await harness.createKey("Array", "test");
    const run = await runCliCaptured(importArgs(fixture("customers-array.json"), secretKey));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/format: +JSON array/);
    expect(parseReport(run.stdout)).toMatchObject({
      rowsRead: 2,
      created: 2,
      preBound: 1,
      unresolved: { awaiting_first_session: 1 },
    });
    const client = harness.client(secretKey);
    expect(await client.getCustomer({ externalUserId: "user_alan" })).toMatchObject({
      stripeCustomerId: "cus_PzArr0001Alan",
    });
    expect(await client.getCustomer({ stripeCustomerId: "cus_PzArr0002Kat" })).toMatchObject({
      name: "Katherine Johnson",
      metadata: { team: "nasa" },
      createdAt: new Date("2023-09-02T00:00:00.000Z"),
    });
  });

  it("reports each malformed CSV row with its line number, skips it, and imports the rest", async () => {
    const { secretKey } = await harness.createKey("Malformed CSV", "test");
    const run = await runCliCaptured(importArgs(fixture("customers-malformed.csv"), secretKey));
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split("\n")).toEqual([
      'skipped line 5: id: stripeCustomerId must be a Stripe customer id (cus_…) (got "not_a_customer_id")',
      "skipped line 6: unbalanced quote: a quoted field opened on this line does not close where the row ends",
      'skipped line 8: Created (UTC): "2023-02-30 10:00:00" is not a date like 2023-04-05 12:34:56',
      "skipped line 9: has 3 fields where the header has 6",
    ]);
    expect(parseReport(run.stdout)).toMatchObject({ rowsRead: 8, created: 4, skipped: 4 });
    expect(run.stdout).toMatch(/skipped: +4 bad rows \(listed above/);

    const client = harness.client(secretKey);
    // The rows after the unclosed quote were read again on their own and imported.
    for (const id of ["cus_PzBad0001Ok", "cus_PzBad0002Ok", "cus_PzBad0005Ok", "cus_PzBad0008Ok"]) {
      expect((await client.getCustomer({ stripeCustomerId: id })).stripeCustomerId).toBe(id);
    }
    expect((await client.getCustomer({ stripeCustomerId: "cus_PzBad0002Ok" })).name).toBe("Second Good");
    expect((await client.getCustomer({ stripeCustomerId: "cus_PzBad0008Ok" })).name).toBe('Fourth "Good"');
    const skipped = await rejectionOf(() => client.getCustomer({ stripeCustomerId: "cus_PzBad0004Quote" }));
    expect(skipped).toMatchObject({ code: "NOT_FOUND" });
  });

  it("reports bad JSON Lines and bad array elements by line and by index", async () => {
    const { secretKey } = await harness.createKey("Bad JSON rows", "test");
    const jsonl = files.path("bad.jsonl");
    writeFileSync(
      jsonl,
      [
        '{"id":"cus_JlGood1","object":"customer","email":"one@example.com"}',
        '{"id":"cus_JlBroken",',
        "",
        '{"id":"cus_JlBadMeta","metadata":{"count":3}}',
        '{"id":"cus_JlGood2","email":null,"created":1700000000}',
        '["not","an","object"]',
        '{"id":"in_1Invoice","object":"invoice"}',
        '{"id":"cus_JlBadCreated","created":"yesterday"}',
      ].join("\n"),
    );
    const lines = await runCliCaptured(importArgs(jsonl, secretKey));
    expect(lines.code).toBe(0);
    expect(lines.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^skipped line 2: not valid JSON \(/),
      "skipped line 4: metadata.count: metadata values must be strings",
      "skipped line 6: not a JSON object (got an array)",
      'skipped line 7: not a customer (object: "invoice")',
      'skipped line 8: created: "yesterday" is not a Unix time in seconds',
    ]);
    expect(parseReport(lines.stdout)).toMatchObject({ rowsRead: 7, created: 2, skipped: 5 });

    const array = files.path("bad-array.json");
    writeFileSync(
      array,
      JSON.stringify([
        { id: "cus_ArGood" },
        { id: 42 },
        { email: "no-id@example.com" },
        { id: "cus_ArBadEmail", email: 7 },
      ]),
    );
    const elements = await runCliCaptured(importArgs(array, secretKey));
    expect(elements.code).toBe(0);
    expect(elements.stderr.trim().split("\n")).toEqual([
      "skipped [1]: id: stripeCustomerId must be a string (got 42)",
      "skipped [2]: id: missing",
      expect.stringMatching(/^skipped \[3\]: email: /),
    ]);
    expect(parseReport(elements.stdout)).toMatchObject({ rowsRead: 4, created: 1, skipped: 3 });
  });

  it("--dry-run reports what would happen and writes nothing", async () => {
    const { secretKey } = await harness.createKey("Dry run", "test");
    const run = await runCliCaptured(importArgs(fixture("customers-list.json"), secretKey, "--dry-run"));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Dry run of .*customers-list\.json: nothing was written/m);
    expect(parseReport(run.stdout)).toMatchObject({
      created: 3,
      preBound: 1,
      unresolved: { awaiting_first_session: 1, no_email: 1 },
    });

    const client = harness.client(secretKey);
    for (const stripeCustomerId of ["cus_PzLst0001Ada", "cus_PzLst0002Grace", "cus_PzLst0003NoMail"]) {
      const error = await rejectionOf(() => client.getCustomer({ stripeCustomerId }));
      expect(error).toBeInstanceOf(BillingOSError);
      expect(error).toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await client.listUnresolvedCustomers()).data).toEqual([]);
    // And a real import afterwards still creates them all.
    const real = await runCliCaptured(importArgs(fixture("customers-list.json"), secretKey));
    expect(parseReport(real.stdout)).toMatchObject({ created: 3 });
  });

  it("takes the key from BILLINGOS_SECRET_KEY and, without --url, routes by key: sk_test_ to the sandbox URL", async () => {
    const { secretKey } = await harness.createKey("Key from env", "test");
    const run = await runCliCaptured(["import", "stripe", fixture("customers-array.json")], {
      env: { BILLINGOS_SECRET_KEY: secretKey, BILLINGOS_SANDBOX_URL: harness.url, BILLINGOS_PRODUCTION_URL: NOWHERE },
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(parseReport(run.stdout)).toMatchObject({ created: 2 });

    // A live key goes to the production URL, where nothing listens here.
    const live = await runCliCaptured(
      ["import", "stripe", fixture("customers-array.json"), "--key", harness.liveKey.secretKey],
      {
        env: { BILLINGOS_SANDBOX_URL: harness.url, BILLINGOS_PRODUCTION_URL: NOWHERE },
      },
    );
    expect(live.code).toBe(1);
    expect(live.stderr).toContain(`still failed after 5 tries at ${NOWHERE} (CONNECTION_FAILED`);
  });

  it("draws a progress bar when stdout is a terminal, and still ends with the report", async () => {
    const { secretKey } = await harness.createKey("TTY", "test");
    const run = await runCliCaptured(importArgs(fixture("customers-list.json"), secretKey), { tty: true });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/import +\[[█░]+\] 100%/);
    expect(run.stdout).not.toMatch(/^\[import\] batch/m);
    expect(parseReport(run.stdout)).toMatchObject({ created: 3 });
  });
});
