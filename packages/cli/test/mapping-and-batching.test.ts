import { readFileSync, writeFileSync } from "node:fs";
import type { CustomerToImport } from "@billingos/contracts";
import { afterAll, describe, expect, it } from "vitest";
import { batches } from "../src/batcher.js";
import { readCsv } from "../src/sources/csv-source.js";
import { detectFormat } from "../src/sources/detect-format.js";
import { DEFAULT_MAX_RECORD_BYTES } from "../src/sources/record-limit.js";
import {
  csvLayoutOf,
  customerFromApiObject,
  customerFromCsvCells,
  isoFromCsvDate,
} from "../src/stripe-customer-mapping.js";
import { fixture, tempDir } from "./cli-harness.js";

const files = tempDir();
afterAll(() => files.remove());
const write = (name: string, content: string) => {
  const path = files.path(name);
  writeFileSync(path, content);
  return path;
};

describe("Stripe fields to the import schema", () => {
  it("reads the export's UTC times, seconds optional, and refuses dates that do not exist", () => {
    expect(isoFromCsvDate("2023-04-05 12:34:56")).toBe("2023-04-05T12:34:56.000Z");
    expect(isoFromCsvDate("2023-04-05 12:34")).toBe("2023-04-05T12:34:00.000Z");
    expect(isoFromCsvDate("2023-04-05T12:34:56Z")).toBe("2023-04-05T12:34:56.000Z");
    expect(isoFromCsvDate(" 2024-02-29 00:00:00 ")).toBe("2024-02-29T00:00:00.000Z");
    for (const bad of [
      "2023-02-29 00:00:00",
      "2023-13-01 00:00",
      "2023-04-05 24:00",
      "2023-04-05 12:60",
      "05/04/2023 12:34",
      "yesterday",
    ]) {
      expect(isoFromCsvDate(bad), bad).toBeNull();
    }
  });

  it("maps an API customer object: empty values left out, metadata keys sorted, created to an ISO time", () => {
    expect(
      customerFromApiObject({
        id: "cus_Map1",
        object: "customer",
        email: "",
        name: null,
        description: "ignored",
        metadata: { zeta: "1", alpha: "2" },
        created: 1680698096,
        address: { city: "ignored" },
      }),
    ).toEqual({
      ok: true,
      customer: {
        stripeCustomerId: "cus_Map1",
        metadata: { alpha: "2", zeta: "1" },
        createdAt: "2023-04-05T12:34:56.000Z",
      },
    });
    expect(
      Object.keys((customerFromApiObject({ id: "cus_Map2", metadata: {} }) as { customer: object }).customer),
    ).toEqual(["stripeCustomerId"]);
  });

  it("refuses what is not a live Stripe customer, naming the field as the file names it", () => {
    expect(customerFromApiObject({ id: "cus_Gone", object: "customer", deleted: true })).toEqual({
      ok: false,
      deleted: true,
      reason: "cus_Gone was deleted in Stripe; not imported",
    });
    expect(customerFromApiObject({ id: "sub_1", object: "subscription" })).toEqual({
      ok: false,
      reason: 'not a customer (object: "subscription")',
    });
    expect(customerFromApiObject("cus_1")).toEqual({ ok: false, reason: "not a JSON object (got string)" });
    expect(customerFromApiObject({ id: "cus_T", created: 1.5 })).toMatchObject({
      ok: false,
      reason: "created: 1.5 is not a Unix time in seconds",
    });
    expect(customerFromApiObject({ id: "cus_T", name: "x".repeat(513) })).toEqual({
      ok: false,
      reason: "name: name must be at most 512 characters",
    });
    const big = customerFromApiObject({ id: "cus_T", metadata: { blob: "x".repeat(9000) } });
    expect(big).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^metadata: metadata must be at most 8192 bytes/),
    });
  });

  it("finds the dashboard export's columns by name, in any order and case, with `(metadata)` columns as metadata", () => {
    const layout = csvLayoutOf([
      "Email",
      "ID",
      "Description",
      "created (UTC)",
      "Name",
      "plan (metadata)",
      "user_id (metadata)",
    ])!;
    expect(layout).toMatchObject({ id: 1, email: 0, name: 4, created: 3 });
    expect(layout.metadata).toEqual([
      { key: "plan", index: 5 },
      { key: "user_id", index: 6 },
    ]);
    expect(csvLayoutOf(["Email", "Name"])).toBeNull();

    // `Description` is never the name; empty metadata cells are left out.
    expect(
      customerFromCsvCells(["a@example.com", "cus_Csv1", "A note", "2023-04-05 12:34:56", "", "", "user_9"], layout),
    ).toEqual({
      ok: true,
      customer: {
        stripeCustomerId: "cus_Csv1",
        email: "a@example.com",
        metadata: { user_id: "user_9" },
        createdAt: "2023-04-05T12:34:56.000Z",
      },
    });
    expect(customerFromCsvCells(["a@example.com", "", "", "", "", "", ""], layout)).toEqual({
      ok: false,
      reason: "id: missing",
    });
  });
});

describe("batches", () => {
  const customer = (i: number, bytes = 0): CustomerToImport => ({
    stripeCustomerId: `cus_B${i}`,
    name: "n".repeat(bytes),
  });
  async function* from(customers: CustomerToImport[]) {
    yield* customers;
  }
  const collect = async (customers: CustomerToImport[], limits: { rows: number; bytes: number }) => {
    const out: { ids: string[]; bytes: number }[] = [];
    for await (const batch of batches(from(customers), limits))
      out.push({ ids: batch.customers.map((c) => c.stripeCustomerId), bytes: batch.bytes });
    return out;
  };

  it("caps the customers per batch and keeps file order", async () => {
    const result = await collect(
      Array.from({ length: 7 }, (_, i) => customer(i)),
      { rows: 3, bytes: 1e6 },
    );
    expect(result.map((batch) => batch.ids.length)).toEqual([3, 3, 1]);
    expect(result.flatMap((batch) => batch.ids)).toEqual(Array.from({ length: 7 }, (_, i) => `cus_B${i}`));
  });

  it("caps the JSON bytes per batch, whatever the row cap, and measures them as sent", async () => {
    const customers = Array.from({ length: 10 }, (_, i) => customer(i, 400));
    const result = await collect(customers, { rows: 1000, bytes: 1500 });
    expect(result.map((batch) => batch.ids.length)).toEqual([3, 3, 3, 1]);
    for (const batch of result) {
      expect(batch.bytes).toBeLessThanOrEqual(1500);
      const body = JSON.stringify({
        customers: customers.filter((c) => batch.ids.includes(c.stripeCustomerId)),
        dryRun: false,
      });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(batch.bytes);
    }
  });
});

describe("format detection and CSV line numbers", () => {
  it("tells the formats apart by content, not by name", async () => {
    expect(await detectFormat(write("a.txt", '\uFEFF[{"id":"cus_1"}]'))).toBe("json-array");
    expect(await detectFormat(write("b.csv", '{\n  "object": "list",\n  "data": []\n}\n'))).toBe("json-list");
    expect(await detectFormat(write("c.jsonl", '{"object":"list","data":[{"id":"cus_1"}]}\n'))).toBe("json-list");
    expect(await detectFormat(write("d.json", '{"id":"cus_1"}\n{"id":"cus_2"}\n'))).toBe("jsonl");
    expect(await detectFormat(write("e.json", "id,Email\ncus_1,a@example.com\n"))).toBe("csv");
  });

  it("numbers CSV records by the line they start on, with CRLF endings and no final line break", async () => {
    const path = write("lines.csv", 'id,Description\r\ncus_1,one\r\n\r\ncus_2,"two\r\nlines"\r\ncus_3,three');
    const reader = readCsv(path, DEFAULT_MAX_RECORD_BYTES);
    expect(await reader.header()).toEqual(["id", "Description"]);
    const rows = [];
    for await (const row of reader.rows()) rows.push(row);
    expect(rows).toEqual([
      { kind: "csv", location: "line 2", cells: ["cus_1", "one"] },
      { kind: "csv", location: "lines 4–5", cells: ["cus_2", "two\r\nlines"] },
      { kind: "csv", location: "line 6", cells: ["cus_3", "three"] },
    ]);
  });

  it("gives the same line numbers to a CRLF copy of a file with blank lines, multi-line cells and broken rows", async () => {
    const locations = async (path: string) => {
      const reader = readCsv(path, DEFAULT_MAX_RECORD_BYTES);
      await reader.header();
      const found: string[] = [];
      for await (const row of reader.rows()) found.push(`${row.kind} ${row.location}`);
      return found;
    };
    const lf = readFileSync(fixture("customers-malformed.csv"), "utf8");
    const expected = [
      "csv line 2",
      "csv lines 3–4",
      "csv line 5",
      "unreadable line 6",
      "csv line 7",
      "csv line 8",
      "unreadable line 9",
      "csv line 11",
    ];
    expect(await locations(fixture("customers-malformed.csv"))).toEqual(expected);
    expect(await locations(write("crlf.csv", lf.replace(/\n/g, "\r\n")))).toEqual(expected);
  });

  it("an unclosed quote on the last line is that line's fault alone", async () => {
    const reader = readCsv(write("tail.csv", 'id,Name\ncus_1,A\ncus_2,"B\n'), DEFAULT_MAX_RECORD_BYTES);
    await reader.header();
    const rows = [];
    for await (const row of reader.rows()) rows.push(row);
    expect(rows).toEqual([
      { kind: "csv", location: "line 2", cells: ["cus_1", "A"] },
      { kind: "unreadable", location: "line 3", reason: expect.stringMatching(/^unbalanced quote/) },
    ]);
  });
});
