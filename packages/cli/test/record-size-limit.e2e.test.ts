import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseReport, runCliCaptured, stripeImportArgs, tempDir } from "./cli-harness.js";
import { type HugeRecordShape, hugeRecordLocation, writeHugeRecordExport } from "./huge-record-export.js";
import { CLI, runNodeMeasured } from "./node-process.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";

const MIB = 1024 * 1024;
/** The huge record: twice the headroom below, so a reader that holds it whole cannot pass. */
const HUGE_BYTES = 96 * MIB;
/**
 * Peak resident memory a refusal may take beyond the same CLI importing a small export whole
 * (Node, tsx compiling the source, the client, batches): one record up to the 1 MiB limit, one
 * read ahead, and the garbage collector's slack. Holding the huge record whole takes its 96 MiB
 * at least once, and in practice two or three times.
 */
const HEADROOM = 48 * MIB;
const BEFORE = 1_000;
const AFTER = 40;

describe("billingos import stripe: one huge record is refused while streaming, with bounded memory", () => {
  let harness: ServerHarness;
  const files = tempDir();
  /** The peak of an import of BEFORE + AFTER customers as a list object (the heaviest reader). */
  let baseline: number;

  beforeAll(async () => {
    harness = await startServerHarness();
    const path = files.path("small.json");
    await writeHugeRecordExport(path, "json-list", { before: BEFORE, hugeBytes: 100, after: AFTER, prefix: "small" });
    const { secretKey } = await harness.createKey("Small", "test");
    const run = await runNodeMeasured(
      [...CLI, "import", "stripe", path, "--key", secretKey, "--url", harness.url, "--batch", "100"],
      files.path("peak-rss"),
    );
    expect(run.stderr).toBe("");
    expect(run.peakRss).toBeGreaterThan(0);
    baseline = run.peakRss!;
    console.info(`baseline: a small list object imported whole: peak RSS ${(baseline / MIB).toFixed(0)} MiB`);
    files.clear();
  }, 60_000);
  afterAll(async () => {
    await harness.close();
    files.remove();
  });

  const cases: [HugeRecordShape, string, RegExp][] = [
    ["jsonl", "a JSON Lines line of 96 MiB", /a record is larger than 1 MiB \(the limit/],
    ["json-array", "a JSON array element of 96 MiB", /a record is larger than 1 MiB \(the limit/],
    ["json-list", "a list object's data element of 96 MiB", /a record is larger than 1 MiB \(the limit/],
    [
      "csv",
      "a CSV quote that never closes, 96 MiB before the end of the file",
      /a record is larger than 1 MiB \(the limit.*most likely a quote opened on that line never closes/,
    ],
  ];

  it.each(cases)(
    "%s: %s stops the import where the record starts, within 48 MiB of a small import's peak memory",
    async (shape, _title, reason) => {
      const prefix = `huge${shape.replace("-", "")}`;
      const path = files.path(`huge.${shape === "csv" ? "csv" : shape === "jsonl" ? "jsonl" : "json"}`);
      await writeHugeRecordExport(path, shape, { before: BEFORE, hugeBytes: HUGE_BYTES, after: AFTER, prefix });
      const { secretKey } = await harness.createKey(`Huge ${shape}`, "test");

      try {
        const run = await runNodeMeasured(
          [...CLI, "import", "stripe", path, "--key", secretKey, "--url", harness.url, "--batch", "100"],
          files.path("peak-rss"),
        );
        console.info(
          `${shape}: one ${HUGE_BYTES / MIB} MiB record: exit ${run.code}, peak RSS ${((run.peakRss ?? Number.NaN) / MIB).toFixed(0)} MiB`,
        );
        expect(run.peakRss).toBeLessThan(baseline + HEADROOM);

        // A clean, typed refusal: exit 1 and one line naming the file and the record's place.
        expect(run.signal).toBeNull();
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^error: [^\n]+\n$/);
        expect(run.stderr).toContain(`error: ${path}: ${hugeRecordLocation(shape, BEFORE)}: `);
        expect(run.stderr).toMatch(reason);

        // What was sent before the refusal is reported, and matches the server; nothing after it was sent.
        const stored = await harness.db.kysely
          .selectFrom("imported_customers")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("stripe_customer_id", "like", `cus_${prefix}%`)
          .executeTakeFirstOrThrow();
        const report = parseReport(run.stdout);
        expect(run.stdout).toMatch(/stopped before the end of the file/);
        expect(report.created).toBeGreaterThan(0);
        expect(report.created).toBeLessThanOrEqual(BEFORE);
        expect(Number(stored.n)).toBe(report.created);
        expect(run.stderr).toContain(
          `${report.created} rows were imported before it stopped; re-running the same command is safe`,
        );
      } finally {
        files.clear();
      }
    },
    120_000,
  );
});

describe("billingos import stripe --max-record-bytes", () => {
  let harness: ServerHarness;
  let key: string;
  const files = tempDir();
  const importArgs = (file: string, ...rest: string[]) => stripeImportArgs(file, key, harness.url, ...rest);
  const customer = (id: string, description = "") => ({
    id,
    object: "customer",
    email: `${id}@example.com`,
    description,
  });
  const long = "d".repeat(3000);

  beforeAll(async () => {
    harness = await startServerHarness();
    key = (await harness.createKey("Record limit", "test")).secretKey;
  });
  afterAll(async () => {
    await harness.close();
    files.remove();
  });

  function write(name: string, content: string): string {
    const path = files.path(name);
    writeFileSync(path, content);
    return path;
  }

  it.each([
    [
      "JSON Lines",
      "long.jsonl",
      () => [customer("cus_L1"), customer("cus_L2"), customer("cus_L3", long)].map((c) => JSON.stringify(c)).join("\n"),
      "line 3",
    ],
    [
      "a JSON array",
      "long.json",
      () => JSON.stringify([customer("cus_A1"), customer("cus_A2"), customer("cus_A3", long)]),
      "[2]",
    ],
    [
      "a list object",
      "long-list.json",
      () =>
        JSON.stringify(
          { object: "list", data: [customer("cus_B1"), customer("cus_B2", long)], has_more: false },
          null,
          2,
        ),
      "data[1]",
    ],
    [
      "a CSV",
      "long.csv",
      () => `id,Email,Description\ncus_C1,c1@example.com,\ncus_C2,c2@example.com,"x\n${long}"\n`,
      "line 3",
    ],
  ])(
    "%s: a record over the limit given stops the import with its location; the default limit takes it",
    async (_name, file, content, location) => {
      const path = write(file, content());
      const refused = await runCliCaptured(importArgs(path, "--max-record-bytes", "2048"));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error: [^\n]+\n$/);
      expect(refused.stderr).toContain(
        `error: ${path}: ${location}: a record is larger than 2 KiB (the limit, set by --max-record-bytes); `,
      );
      // No batch had gone out yet: nothing was imported, and there is no report to print.
      expect(refused.stdout).toBe("");

      const accepted = await runCliCaptured(importArgs(path));
      expect(accepted.stderr).toBe("");
      expect(accepted.code).toBe(0);
      expect(parseReport(accepted.stdout)).toMatchObject({ skipped: 0 });
    },
  );

  it.each([
    ["below 1 KiB", "1023"],
    ["above 1 GiB", String(1024 ** 3 + 1)],
    ["not a number", "1MiB"],
    ["negative", "-5"],
  ])("a value %s is a wrong command line (exit 2)", async (_name, value) => {
    const run = await runCliCaptured(
      importArgs(write("ok.jsonl", JSON.stringify(customer("cus_Ok"))), "--max-record-bytes", value),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /'--max-record-bytes <n>' argument '.*' is invalid\. must be a whole number of bytes from 1024 to 1073741824/,
    );
    expect(run.stdout).toBe("");
  });

  it("--help names the option and its default", async () => {
    const run = await runCliCaptured(["import", "stripe", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout.replace(/\s+/g, " ")).toMatch(
      /--max-record-bytes <n> largest record .* Bounds the memory used \(default: 1048576, 1 MiB\) -h/,
    );
  });
});
