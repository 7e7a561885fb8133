import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseReport, runCliCaptured, stripeImportArgs, tempDir } from "./cli-harness.js";
import { CLI, REPO_ROOT } from "./node-process.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";
import { writeStripeCsv } from "./stripe-export-generator.js";

// Exports as merchants really hold them: `stripe customers list` pages appended with `>>`, a CSV a
// European spreadsheet re-saved with semicolons, deleted customers in the list, a damaged id.

describe("billingos import stripe: exports as merchants hold them", () => {
  let harness: ServerHarness;
  let key: string;
  const files = tempDir();
  const importArgs = (file: string, ...rest: string[]) => stripeImportArgs(file, key, harness.url, ...rest);
  const write = (name: string, content: string) => {
    const path = files.path(name);
    writeFileSync(path, content);
    return path;
  };
  /** A page as `stripe customers list` prints it: a pretty-printed list object. */
  const page = (ids: string[], extra: object[] = []) =>
    `${JSON.stringify(
      {
        object: "list",
        data: [...ids.map((id) => ({ id, object: "customer", email: `${id}@example.com`, metadata: {} })), ...extra],
        has_more: true,
        url: "/v1/customers",
      },
      null,
      2,
    )}\n`;

  beforeAll(async () => {
    harness = await startServerHarness();
    key = (await harness.createKey("Exports", "test")).secretKey;
  });
  afterAll(async () => {
    await harness.close();
    files.remove();
  });

  it("reads several list objects saved one after the other (stripe customers list >> file)", async () => {
    const path = write("pages.json", page(["cus_P1", "cus_P2"]) + page(["cus_P3"]) + page(["cus_P4", "cus_P5"]));
    const run = await runCliCaptured(importArgs(path));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/format: +Stripe API list object/);
    expect(parseReport(run.stdout)).toMatchObject({ rowsRead: 5, created: 5, skipped: 0 });
    const customer = await harness.client(key).getCustomer({ stripeCustomerId: "cus_P5" });
    expect(customer.email).toBe("cus_P5@example.com");
  });

  it("names a bad row of a later page by its list object", async () => {
    const path = write("bad-page.json", page(["cus_Q1"]) + page(["cus_Q2"], [{ id: "nope", object: "customer" }]));
    const run = await runCliCaptured(importArgs(path));
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^skipped list 2 data\[1\]: id: .* \(got "nope"\)$/m);
    expect(parseReport(run.stdout)).toMatchObject({ rowsRead: 3, created: 2, skipped: 1 });
  });

  it("reports deleted customers as deleted and skips them, not as bad rows", async () => {
    const path = write(
      "deleted.json",
      page(
        ["cus_D1"],
        [
          { id: "cus_Gone1", object: "customer", deleted: true },
          { id: "cus_Gone2", object: "customer", deleted: true },
        ],
      ),
    );
    const run = await runCliCaptured(importArgs(path));
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      "deleted data[1]: cus_Gone1 was deleted in Stripe; not imported\ndeleted data[2]: cus_Gone2 was deleted in Stripe; not imported\n",
    );
    expect(run.stdout).toMatch(/^ {2}deleted: +2 \(deleted in Stripe; not imported, nothing to fix\)$/m);
    expect(parseReport(run.stdout)).toMatchObject({ rowsRead: 3, created: 1, skipped: 0 });
    expect(run.stdout).toMatch(/^ {2}skipped: +0 bad rows$/m);
  });

  it("quotes the offending value of a bad id", async () => {
    const path = write("bad-id.csv", "id,Email\ncus_Fine1,a@example.com\nCUS 12,b@example.com\n");
    const run = await runCliCaptured(importArgs(path));
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^skipped line 3: id: .* \(got "CUS 12"\)$/m);
  });

  it("a semicolon-separated CSV says so and how to fix it, in one line", async () => {
    const path = write(
      "semicolons.csv",
      'id;Email;Name;Created (UTC)\ncus_S1;s1@example.com;"Anne";2024-01-02 10:00\n',
    );
    const run = await runCliCaptured(importArgs(path));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: .*semicolons\.csv: a CSV with semicolons between the cells .*save it again as CSV with commas .*\n$/,
    );
    expect(run.stdout).toBe("");
  });

  it("Ctrl-C during an import says that re-running the same command finishes it", async () => {
    const csv = files.path("interrupted.csv");
    await writeStripeCsv(csv, 60_000, "intr");
    const child = spawn(process.execPath, [...CLI, "import", "stripe", csv, "--url", harness.url, "--batch", "100"], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, BILLINGOS_SECRET_KEY: key },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("[import] batch 3:")) resolve();
      }),
    );
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toMatch(
      /^interrupted: \d+ rows were imported before it stopped; re-running the same command is safe and finishes the import\.$/m,
    );
  }, 60_000);
});
