import { CliError } from "../cli-errors.js";

/**
 * The default cap on one record (a JSON Lines line, a JSON array element, a CSV row). A Stripe
 * customer takes a few KiB (metadata is capped at 8 KiB), so a record past 1 MiB is a damaged
 * file: a CSV quote that never closes, a line break lost between JSON records. The cap is what
 * bounds the CLI's memory: a reader refuses a record as soon as it passes the cap, before it is
 * ever held whole.
 */
export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

/** `--max-record-bytes` accepts 1 KiB … 1 GiB. */
export const MIN_MAX_RECORD_BYTES = 1024;
export const MAX_MAX_RECORD_BYTES = 1024 * 1024 * 1024;

/** "1 MiB", "64 KiB", "1500 bytes": exact, as a person would write the limit. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * The one-line refusal of a record over the limit, naming where it starts: `line 3` (JSON Lines,
 * CSV), `[3]` or `data[3]` (JSON). The import stops there, as it does for any damaged file.
 */
export function recordTooLarge(path: string, location: string, limit: number, likelyCause: string): CliError {
  return new CliError(
    `${path}: ${location}: a record is larger than ${formatBytes(limit)} (the limit, set by --max-record-bytes); ${likelyCause}`,
  );
}

export const JSON_CAUSE = "a Stripe customer takes a few KiB, so the file is most likely damaged there";
export const CSV_CAUSE = "most likely a quote opened on that line never closes";
