import { statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseReport, tempDir } from "./cli-harness.js";
import { MAIN, REPO_ROOT, runNode } from "./node-process.js";
import { type ServerHarness, startServerHarness } from "./server-harness.js";
import { expectedImport, writeStripeCsv } from "./stripe-export-generator.js";

describe("the billingos process", () => {
  let harness: ServerHarness;
  const files = tempDir();

  beforeAll(async () => {
    harness = await startServerHarness();
  });
  afterAll(async () => {
    await harness.close();
    files.remove();
  });

  it("prints plain progress lines when its output is not a terminal, then the report; the key comes from BILLINGOS_SECRET_KEY", async () => {
    const rows = 5_000;
    const csv = files.path("process.csv");
    await writeStripeCsv(csv, rows, "proc");
    const { secretKey } = await harness.createKey("Process", "test");

    const run = await runNode(
      ["--conditions=source", "--import", "tsx", MAIN, "import", "stripe", csv, "--url", harness.url],
      {
        BILLINGOS_SECRET_KEY: secretKey,
      },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // No bar, no cursor movement: lines a log keeps as they are.
    expect(run.stdout).not.toContain("\u001b");
    const progress = run.stdout.split("\n").filter((line) => line.startsWith("[import]"));
    expect(progress).toHaveLength(rows / 500);
    progress.forEach((line, index) => {
      expect(line).toMatch(
        new RegExp(
          `^\\[import\\] batch ${index + 1}: \\d+ rows read \\(\\d+% done\\), ${(index + 1) * 500} imported, 0 skipped$`,
        ),
      );
    });
    // The percentage counts rows imported: it climbs batch by batch and reaches 100 only with the
    // last one, although the file is read well ahead of the batches.
    const percents = progress.map((line) => Number(/\((\d+)% done\)/.exec(line)![1]));
    percents.forEach((percent, index) => {
      if (index > 0) expect(percent).toBeGreaterThanOrEqual(percents[index - 1]!);
      if (index < percents.length - 1) expect(percent).toBeLessThan(100);
    });
    expect(percents.at(-1)).toBe(100);
    // The second pass writes nothing and says so.
    expect(run.stdout).toMatch(/^\[recount\] batch 10: 5000 rows read \(100% done\), 5000 checked, nothing written$/m);
    expect(
      run.stdout
        .split("\n")
        .filter((line) => line.startsWith("[recount]"))
        .join("\n"),
    ).not.toMatch(/imported/);
    const expected = expectedImport(rows);
    expect(parseReport(run.stdout)).toMatchObject({
      rowsRead: rows,
      created: rows,
      preBound: expected.preBound,
      unresolved: expected.unresolved,
      skipped: 0,
      batches: 10,
    });
  }, 60_000);

  it("exits 2 with the usage on an unknown flag, and 1 with one line on a bad file", async () => {
    const usage = await runNode([
      "--conditions=source",
      "--import",
      "tsx",
      MAIN,
      "import",
      "stripe",
      "x.csv",
      "--bogus",
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^error: unknown option '--bogus'\n/);
    expect(usage.stderr).toMatch(/Usage: billingos import stripe/);

    const bad = await runNode([
      "--conditions=source",
      "--import",
      "tsx",
      MAIN,
      "import",
      "stripe",
      "no/such/file.csv",
      "--key",
      harness.testKey.secretKey,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`error: ${REPO_ROOT}no/such/file.csv: no such file\n`);
  }, 30_000);

  it("streams: a ~100 MB export imports within a 64 MB heap that cannot even hold the file", async () => {
    const rows = 16_000;
    const csv = files.path("padded.csv");
    // Realistic columns, plus 6 KB of description per row (ignored by the import): ~98 MB.
    await writeStripeCsv(csv, rows, "mem", { padding: 6_000 });
    const size = statSync(csv).size;
    expect(size).toBeGreaterThan(90e6);

    // The limit bites: reading the file whole and splitting it runs out of memory.
    const naive = await runNode([
      "--max-old-space-size=64",
      "-e",
      `const text = require("node:fs").readFileSync(${JSON.stringify(csv)}, "utf8"); console.log(text.split("\\n").map((line) => line.split(",")).length);`,
    ]);
    expect(naive.code).not.toBe(0);
    expect(naive.stderr).toMatch(/heap out of memory|Allocation failed/i);

    const { secretKey } = await harness.createKey("Streaming", "test");
    const started = performance.now();
    const run = await runNode([
      "--max-old-space-size=64",
      "--conditions=source",
      "--import",
      "tsx",
      MAIN,
      "import",
      "stripe",
      csv,
      "--key",
      secretKey,
      "--url",
      harness.url,
      "--batch",
      "1000",
    ]);
    const seconds = (performance.now() - started) / 1000;
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const expected = expectedImport(rows);
    expect(parseReport(run.stdout)).toMatchObject({
      rowsRead: rows,
      created: rows,
      preBound: expected.preBound,
      unresolved: expected.unresolved,
    });
    console.info(
      `${(size / 1e6).toFixed(0)} MB CSV in a 64 MB heap: ${seconds.toFixed(1)} s (${(size / 1e6 / seconds).toFixed(1)} MB/s)`,
    );
  }, 180_000);
});
