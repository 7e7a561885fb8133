import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, parseReport, runCliCaptured, stripeImportArgs, tempDir } from "./cli-harness.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";

/** One line on stderr, no stack trace, nothing half-printed on stdout. */
function expectOneLineError(run: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/^error: [^\n]+\n$/);
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe("billingos import stripe: bad files and bad command lines", () => {
  let harness: ServerHarness;
  let key: string;
  const files = tempDir();
  const importArgs = (file: string, ...rest: string[]) => stripeImportArgs(file, key, harness.url, ...rest);

  beforeAll(async () => {
    harness = await startServerHarness();
    key = (await harness.createKey("Bad input", "test")).secretKey;
  });
  afterAll(async () => {
    await harness.close();
    files.remove();
  });

  describe("a bad file: exit 1 with one line", () => {
    it.each([
      ["a missing file", () => files.path("missing.csv"), /missing\.csv: no such file$/m],
      ["a directory", () => files.dir, /: is a directory, not a file$/m],
      ["an empty file", () => write("empty.csv", ""), /empty\.csv: the file is empty$/m],
      ["blank lines only", () => write("blank.json", "\n  \n"), /holds only blank lines$/m],
      [
        "a binary file",
        () => write("binary.bin", Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 1, 2])),
        /not a text file/,
      ],
      [
        "text that is not CSV",
        () => write("notes.txt", "Dear team,\nplease find attached.\n"),
        /neither Stripe JSON nor a Stripe customer CSV: the first line has no "id" column/,
      ],
      [
        "a CSV without an id column",
        () => write("no-id.csv", "Email,Name\na@example.com,A\n"),
        /no "id" column \(it reads: "Email,Name"\)/,
      ],
      [
        "a truncated JSON array",
        () => write("cut.json", '[{"id":"cus_Cut1"},{"id":"cus_Cu'),
        /cut\.json: not valid JSON, or cut short \(Parser .*; read up to byte 32 of 32\)/,
      ],
      [
        "a truncated list object",
        () => write("cut-list.json", '{\n "object": "list",\n "data": [\n  {"id": "cus_Cut2"}'),
        /not valid JSON, or cut short \(/,
      ],
      [
        "a JSON object without data",
        () => write("one.json", '{\n  "id": "cus_Single",\n  "object": "customer"\n}\n'),
        /a JSON object without a "data" array/,
      ],
      [
        "a quote that never closes, swallowing over 1 MiB",
        () =>
          write(
            "huge-quote.csv",
            [
              "id,Name",
              "cus_Q1,Ok",
              'cus_Q2,"open',
              ...Array.from({ length: 25_000 }, (_, i) => `cus_Q${i}x,${"y".repeat(50)}`),
            ].join("\n"),
          ),
        /huge-quote\.csv: line 3: a record is larger than 1 MiB \(the limit, set by --max-record-bytes\); most likely a quote opened on that line never closes\.$/m,
      ],
      [
        "a list whose data is not an array",
        () => write("data-5.json", '{\n "object": "list", "data": 5}'),
        /a JSON object without a "data" array/,
      ],
    ])("%s", async (_name, path, pattern) => {
      const run = await runCliCaptured(importArgs(path()));
      expectOneLineError(run, pattern);
      expect(run.stdout).toBe("");
    });

    it("a JSON file cut short after batches went through: the line says how far it got, the report shows it", async () => {
      // Larger than one read (64 KiB), so batches go out before the damage is reached.
      const elements = Array.from({ length: 2000 }, (_, i) =>
        JSON.stringify({ id: `cus_Partial${i}`, email: `p${i}@example.com` }),
      );
      const path = write("partial.json", `[${elements.join(",")},{"id":"cus_Par`);
      const run = await runCliCaptured(importArgs(path, "--batch", "100"));
      expectOneLineError(
        run,
        /not valid JSON, or cut short .*\. \d+ rows were imported before it stopped; re-running the same command is safe/,
      );
      expect(run.stdout).toMatch(/stopped before the end of the file/);
      const report = parseReport(run.stdout);
      expect(report.created).toBeGreaterThan(0);
      expect(report.created).toBeLessThan(2000);
      expect(run.stderr).toContain(`${report.created} rows were imported`);
    });

    it("a key the server does not know: UNAUTHORIZED, not retried", async () => {
      const other = await startServerHarness();
      try {
        const run = await runCliCaptured(
          stripeImportArgs(fixture("customers-array.json"), other.testKey.secretKey, harness.url),
        );
        expectOneLineError(run, /batch 1: the server refused the key \(UNAUTHORIZED: /);
        expect(run.stderr).not.toMatch(/retry/);
      } finally {
        await other.close();
      }
    });
  });

  describe("a wrong command line: exit 2 with usage", () => {
    it.each([
      ["an unknown flag", () => importArgs(fixture("customers-array.json"), "--dryrun"), /unknown option '--dryrun'/],
      ["an unknown command", () => ["export", "stripe"], /unknown command 'export'/],
      ["an unknown source", () => ["import", "paddle", "x.csv"], /unknown command 'paddle'/],
      ["no file", () => ["import", "stripe", "--key", key], /missing required argument 'file'/],
      [
        "--batch 0",
        () => importArgs(fixture("customers-array.json"), "--batch", "0"),
        /--batch <n>' argument '0' is invalid\. must be a whole number from 1 to 1000/,
      ],
      [
        "--batch 1001",
        () => importArgs(fixture("customers-array.json"), "--batch", "1001"),
        /whole number from 1 to 1000/,
      ],
      [
        "--batch abc",
        () => importArgs(fixture("customers-array.json"), "--batch", "abc"),
        /whole number from 1 to 1000/,
      ],
      [
        "no key",
        () => ["import", "stripe", fixture("customers-array.json")],
        /missing --key sk_… \(or set BILLINGOS_SECRET_KEY\)/,
      ],
      [
        "a malformed key",
        () => ["import", "stripe", fixture("customers-array.json"), "--key", "sk_test_short"],
        /--key: Invalid secretKey/,
      ],
      [
        "a publishable key",
        () => ["import", "stripe", fixture("customers-array.json"), "--key", "pk_test_abc"],
        /--key: Invalid secretKey: publishable keys/,
      ],
      [
        "a bad --url",
        () => ["import", "stripe", fixture("customers-array.json"), "--key", key, "--url", "localhost:4000"],
        /--url: "localhost:4000" is not an http\(s\) URL/,
      ],
    ])("%s", async (_name, argv, pattern) => {
      const run = await runCliCaptured(argv());
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(pattern);
      expect(run.stderr).toMatch(/Usage: billingos/);
      expect(run.stdout).toBe("");
    });

    it("no command at all prints the usage", async () => {
      const run = await runCliCaptured([]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/Usage: billingos \[options\] \[command\]/);
    });

    it("--help prints the usage and succeeds", async () => {
      const run = await runCliCaptured(["import", "stripe", "--help"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Usage: billingos import stripe \[options\] <file>/);
      expect(run.stdout).toMatch(/--dry-run/);
      expect(run.stdout).toMatch(/Exit codes: 0 done/);
    });
  });

  function write(name: string, content: string | Buffer): string {
    const path = files.path(name);
    writeFileSync(path, content);
    return path;
  }
});
