import type { CustomerToImport } from "@billingos/contracts";
import { CliError } from "../cli-errors.js";
import { csvLayoutOf, customerFromApiObject, customerFromCsvCells } from "../stripe-customer-mapping.js";
import { readCsv } from "./csv-source.js";
import { detectFormat, type SourceFormat } from "./detect-format.js";
import { readJsonArray } from "./json-source.js";
import { readJsonLines } from "./jsonl-source.js";
import type { SourceRow } from "./source-row.js";

/** A row of the file: a customer ready to send, or the reason it is skipped. */
export type CustomerRow =
  | { ok: true; location: string; customer: CustomerToImport }
  | { ok: false; location: string; reason: string; deleted?: true };

export interface CustomerSource {
  format: SourceFormat;
  /** Every row of the file, in order. Read once: a second pass opens the file again. */
  rows(): AsyncGenerator<CustomerRow>;
  /** How far into the file the reader is, for the progress bar. */
  bytesRead(): number;
}

export interface SourceOptions {
  /** Known already (a second pass over the same file); else detected from the content. */
  format?: SourceFormat | undefined;
  /** A record over this many bytes stops the import (see record-limit.ts). */
  maxRecordBytes: number;
}

/** Detects the format by content and streams the file's rows as customers to import. */
export async function openCustomerSource(path: string, size: number, options: SourceOptions): Promise<CustomerSource> {
  const detected = options.format ?? (await detectFormat(path));
  switch (detected) {
    case "csv":
      return csvSource(path, options.maxRecordBytes);
    case "json-array":
    case "json-list": {
      const reader = readJsonArray(path, detected === "json-list" ? "list" : "array", size, options.maxRecordBytes);
      return { format: detected, rows: () => mapped(reader.rows()), bytesRead: reader.bytesRead };
    }
    case "jsonl": {
      const reader = readJsonLines(path, options.maxRecordBytes);
      return { format: detected, rows: () => mapped(reader.rows()), bytesRead: reader.bytesRead };
    }
  }
}

async function csvSource(path: string, maxRecordBytes: number): Promise<CustomerSource> {
  const reader = readCsv(path, maxRecordBytes);
  const header = await reader.header();
  const layout = csvLayoutOf(header);
  if (layout === null) {
    reader.close();
    if (isSemicolonSeparated(header)) {
      throw new CliError(
        `${path}: a CSV with semicolons between the cells (as a spreadsheet set to a European locale saves it); Stripe's export uses commas. Import the file Stripe gave you (Customers → Export) as is, or save it again as CSV with commas (LibreOffice: Save As → Text CSV, field delimiter ","; Excel: "CSV UTF-8 (Comma delimited)")`,
      );
    }
    const shown = header.slice(0, 5).join(",");
    throw new CliError(
      `${path}: neither Stripe JSON nor a Stripe customer CSV: the first line has no "id" column (it reads: ${JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown)})`,
    );
  }
  async function* rows(): AsyncGenerator<CustomerRow> {
    for await (const row of reader.rows()) {
      if (row.kind === "csv") yield { location: row.location, ...customerFromCsvCells(row.cells, layout!) };
      else yield* mapped([row]);
    }
  }
  return { format: "csv", rows, bytesRead: reader.bytesRead };
}

/** A header read as one cell that holds `id` once split at semicolons: a re-saved export. */
function isSemicolonSeparated(header: readonly string[]): boolean {
  const cells = header.length === 1 ? header[0]!.split(";") : header.flatMap((cell) => cell.split(";"));
  return cells.length > 1 && cells.some((cell) => cell.trim().replace(/^"|"$/g, "").toLowerCase() === "id");
}

async function* mapped(rows: AsyncIterable<SourceRow> | Iterable<SourceRow>): AsyncGenerator<CustomerRow> {
  for await (const row of rows) {
    if (row.kind === "unreadable") yield { ok: false, location: row.location, reason: row.reason };
    else if (row.kind === "json") yield { location: row.location, ...customerFromApiObject(row.value) };
    else yield { ok: false, location: row.location, reason: "a CSV record in a JSON file" };
  }
}
