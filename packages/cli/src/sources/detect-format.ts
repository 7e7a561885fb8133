import { open } from "node:fs/promises";
import { CliError } from "../cli-errors.js";

/** The shapes of a Stripe customer export this CLI reads. */
export type SourceFormat = "csv" | "json-array" | "json-list" | "jsonl";

export const FORMAT_LABELS: Record<SourceFormat, string> = {
  csv: "Stripe dashboard CSV export",
  "json-array": "JSON array",
  "json-list": "Stripe API list object",
  jsonl: "JSON Lines",
};

/**
 * Enough to hold the first line of any JSON Lines export (one customer is a few KiB), yet small
 * enough that a one-line 1 GB list object is never read whole just to be recognised.
 */
const PEEK_BYTES = 256 * 1024;

/** Names a file system failure the way a person would, without a stack trace. */
export function fileErrorMessage(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return `${path}: no such file`;
  if (code === "EISDIR") return `${path}: is a directory, not a file`;
  if (code === "EACCES" || code === "EPERM") return `${path}: permission denied`;
  return `${path}: cannot be read (${error instanceof Error ? error.message : String(error)})`;
}

/**
 * Decides the format from the first bytes, not the file name: exports get renamed, and a `.json`
 * file may hold one object per line. `[` opens an array; `{` opens either one list object
 * (pretty-printed, or too long to be a line) or JSON Lines (a first line that is a whole object);
 * anything else must be a CSV, which its reader then checks for an `id` column.
 */
export async function detectFormat(path: string): Promise<SourceFormat> {
  let head: Buffer;
  try {
    const handle = await open(path, "r");
    try {
      const buffer = Buffer.alloc(PEEK_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, PEEK_BYTES, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new CliError(fileErrorMessage(path, error));
  }

  if (head.length === 0) throw new CliError(`${path}: the file is empty`);
  if (head.includes(0)) {
    throw new CliError(`${path}: not a text file; expected Stripe customers as JSON or the dashboard's CSV export`);
  }
  const wholeFile = head.length < PEEK_BYTES;
  const text = head.toString("utf8").replace(/^\uFEFF/, "");
  const start = text.search(/\S/);
  if (start === -1) throw new CliError(`${path}: the file holds only blank lines`);

  if (text[start] === "[") return "json-array";
  if (text[start] !== "{") return "csv";
  const newline = text.indexOf("\n", start);
  if (newline === -1) return "json-list";
  let first: unknown;
  try {
    first = JSON.parse(text.slice(start, newline));
  } catch {
    return "json-list";
  }
  if (typeof first !== "object" || first === null || Array.isArray(first)) return "json-list";
  // One minified list object and nothing after it: a saved API response, not JSON Lines.
  const alone = wholeFile && text.slice(newline).trim() === "";
  return alone && (first as { object?: unknown }).object === "list" ? "json-list" : "jsonl";
}
