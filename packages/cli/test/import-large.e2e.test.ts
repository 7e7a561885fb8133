import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseReport, runCliCaptured, stripeImportArgs, tempDir } from "./cli-harness.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";
import { expectedImport, writeStripeCsv, writeStripeJsonLines } from "./stripe-export-generator.js";

const CSV_ROWS = 50_000;
const JSONL_ROWS = 4_000;

describe("billingos import stripe: generated exports against a real server", () => {
  let harness: ServerHarness;
  const files = tempDir();

  beforeAll(async () => {
    harness = await startServerHarness();
    await writeStripeCsv(files.path("customers.csv"), CSV_ROWS, "csv");
    await writeStripeJsonLines(files.path("customers.jsonl"), JSONL_ROWS, "jl");
  });
  afterAll(async () => {
    await harness.close();
    files.remove();
  });

  it("imports a 50,000-row dashboard CSV with exact counts, then re-importing it changes nothing", async () => {
    const { secretKey } = await harness.createKey("Large CSV", "test");
    const args = ["import", "stripe", files.path("customers.csv"), "--key", secretKey, "--url", harness.url];
    const expected = expectedImport(CSV_ROWS);

    const started = performance.now();
    const first = await runCliCaptured(args);
    const seconds = (performance.now() - started) / 1000;
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const report = parseReport(first.stdout);
    expect(report).toEqual({
      rowsRead: CSV_ROWS,
      imported: CSV_ROWS,
      created: expected.created,
      updated: 0,
      unchanged: 0,
      preBound: expected.preBound,
      unresolved: expected.unresolved,
      skipped: 0,
      batches: CSV_ROWS / 500,
      retries: 0,
    });
    // Shared emails sit half the file apart, so the figures were counted again once all was in.
    expect(first.stdout).toMatch(/unresolved counted again/);
    console.info(
      `50k CSV (${(statSync(files.path("customers.csv")).size / 1e6).toFixed(1)} MB): first import ${seconds.toFixed(1)} s, ${Math.round(CSV_ROWS / seconds)} rows/s including the recount`,
    );

    // What the server holds matches the report, customer by customer.
    const client = harness.client(secretKey);
    const preBound = await client.getCustomer({ externalUserId: "user_csv_40" });
    expect(preBound).toMatchObject({ stripeCustomerId: "cus_csv000014", boundBy: "metadata" });
    expect(preBound.metadata).toEqual({ user_id: "user_csv_40" });
    // Quoted cells with commas and doubled quotes, and metadata columns, arrive intact.
    const quoted = await client.getCustomer({ stripeCustomerId: `cus_csv${(42).toString(36).padStart(6, "0")}` });
    expect(quoted).toMatchObject({
      email: "shared.csv.42@example.com",
      externalUserId: null,
      metadata: { company: 'Acme, "Widgets" 42', plan: "pro" },
    });
    const shared = await client.listUnresolvedCustomers({ reason: "email_shared", limit: 100 });
    expect(shared.data).toHaveLength(100);
    const multiLine = await client.getCustomer({ stripeCustomerId: "cus_csv0000rs" });
    expect(multiLine.name).toBe("Customer 1000");
    expect(multiLine.createdAt?.toISOString()).toBe("2023-01-01T16:40:00.000Z");

    const againStarted = performance.now();
    const second = await runCliCaptured(args);
    const againSeconds = (performance.now() - againStarted) / 1000;
    expect(second.code).toBe(0);
    const again = parseReport(second.stdout);
    expect(again).toMatchObject({
      rowsRead: CSV_ROWS,
      created: 0,
      updated: 0,
      unchanged: CSV_ROWS,
      preBound: 0,
      skipped: 0,
    });
    // Nothing changed during the re-run, so each batch's figures are already the final ones.
    expect(again.unresolved).toEqual(expected.unresolved);
    expect(second.stdout).not.toMatch(/unresolved counted again/);
    console.info(
      `50k CSV re-import: ${againSeconds.toFixed(1)} s, ${Math.round(CSV_ROWS / againSeconds)} rows/s, all unchanged`,
    );
  }, 180_000);

  it("imports a JSON Lines file of API customer objects with exact counts", async () => {
    const { secretKey } = await harness.createKey("Large JSONL", "test");
    const run = await runCliCaptured(
      stripeImportArgs(files.path("customers.jsonl"), secretKey, harness.url, "--batch", "1000"),
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/format: +JSON Lines/);
    const expected = expectedImport(JSONL_ROWS);
    expect(parseReport(run.stdout)).toMatchObject({
      rowsRead: JSONL_ROWS,
      created: JSONL_ROWS,
      preBound: expected.preBound,
      unresolved: expected.unresolved,
      skipped: 0,
      batches: JSONL_ROWS / 1000,
    });

    const rerun = await runCliCaptured(stripeImportArgs(files.path("customers.jsonl"), secretKey, harness.url));
    expect(parseReport(rerun.stdout)).toMatchObject({ created: 0, updated: 0, unchanged: JSONL_ROWS });
  }, 60_000);
});
