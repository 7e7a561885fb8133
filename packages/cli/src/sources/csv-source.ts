import { createReadStream } from "node:fs";
import { type CsvError, type Info, type Options, parse } from "csv-parse";
import { parse as parseSync } from "csv-parse/sync";
import { CliError } from "../cli-errors.js";
import { fileErrorMessage } from "./detect-format.js";
import { CSV_CAUSE, recordTooLarge } from "./record-limit.js";
import { lineLocation, type SourceRow } from "./source-row.js";

const UNCLOSED_QUOTE = "unbalanced quote: a quoted field opened on this line does not close where the row ends";

// Column counts are checked here, not by csv-parse, so that a record that swallowed the lines
// after it (an unclosed quote) can be told apart from one that merely has a cell too many.
// A stray quote inside an unquoted cell (`Bob "Bobby" Smith`) is kept as text, as a spreadsheet would.
const PARSE_OPTIONS = {
  bom: true,
  info: true,
  raw: true,
  relax_quotes: true,
  relax_column_count: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
} satisfies Options;

interface ParsedRecord {
  record: string[];
  info: Info;
  raw: string;
}

/** Where csv-parse says a skipped record ends, and its text (csv-parse types these loosely). */
function skippedAt(error: CsvError): { lines: number; raw: string } {
  return {
    lines: typeof error.lines === "number" ? error.lines : 1,
    raw: typeof error.raw === "string" ? error.raw : "",
  };
}

function occurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

/**
 * Turns csv-parse's line counts into the file's own line numbers, record by record in file
 * order. csv-parse 7 counts a CRLF inside a quoted field as two lines, and its raw text of a
 * record may start with the blank lines skipped before it (and, with CRLF endings, lacks the
 * final LF); both are corrected for here.
 */
class LineTracker {
  #overcount = 0;

  /** `offset`: the file line just before the text csv-parse was given. */
  constructor(private readonly offset = 0) {}

  span(lines: number, raw: string): { first: number; last: number } {
    const body = raw.replace(/^[\r\n]+/, "").replace(/\r?\n$/, "");
    this.#overcount += occurrences(body, "\r\n");
    const last = this.offset + lines - this.#overcount;
    return { first: last - occurrences(body, "\n"), last };
  }
}

export interface CsvReader {
  /** The header's cells, then one row per record, in file order. */
  header(): Promise<string[]>;
  rows(): AsyncGenerator<SourceRow>;
  bytesRead(): number;
  /** Stops reading early (the rows are not wanted after all). */
  close(): void;
}

/**
 * Streams a CSV file record by record (csv-parse), with each record's line number. A malformed
 * record becomes an `unreadable` row and reading goes on. A record over `maxRecordBytes` (in
 * practice a quote that never closes, swallowing the rest of the file) stops the reading there:
 * the rows before it are still read, then the import stops on it.
 */
export function readCsv(path: string, maxRecordBytes: number): CsvReader {
  const input = createReadStream(path);
  const parser = parse({ ...PARSE_OPTIONS, max_record_size: maxRecordBytes });
  // csv-parse reports skipped records as events beside its output; they are queued and merged
  // back in file order.
  const skipped: CsvError[] = [];
  let oversized = false;
  parser.on("skip", (error: CsvError) => {
    if (oversized) return;
    skipped.push(error);
    if (error.code === "CSV_MAX_RECORD_SIZE") {
      // csv-parse reads on after this error and raises it again and again as the record grows,
      // each time with a copy of the record so far (1.7 GB for a 96 MiB unclosed quote, when
      // they were all queued): reading stops here instead. The parser still hands out the
      // records before this one, then ends.
      oversized = true;
      input.unpipe(parser);
      input.destroy();
      parser.end();
    }
  });
  let failure: unknown;
  input.on("error", (error) => {
    failure = error;
    parser.destroy(error);
  });
  input.pipe(parser);

  const records = parser[Symbol.asyncIterator]() as AsyncIterator<ParsedRecord>;
  const tracker = new LineTracker();
  let width = 0;
  let headerCells: Promise<string[]> | undefined;

  const readHeader = async (): Promise<string[]> => {
    const first = await records.next().catch((error: unknown) => {
      throw readFailure(path, failure ?? error);
    });
    if (first.done) throw new CliError(`${path}: no header line`);
    width = first.value.record.length;
    tracker.span(first.value.info.lines, first.value.raw);
    return first.value.record;
  };

  async function* rows(): AsyncGenerator<SourceRow> {
    headerCells ??= readHeader();
    await headerCells;
    try {
      while (true) {
        const next = await records.next();
        if (next.done) break;
        const { record, info, raw } = next.value;
        yield* drainSkipped(info.lines);
        yield* checkedRecord(record, raw, tracker.span(info.lines, raw), width);
      }
    } catch (error) {
      throw readFailure(path, failure ?? error);
    } finally {
      parser.destroy();
      input.destroy();
    }
    yield* drainSkipped(Number.POSITIVE_INFINITY);
  }

  /** Skipped records that csv-parse counted before line `before` (its own count), in order. */
  function* drainSkipped(before: number): Generator<SourceRow> {
    while (skipped.length > 0) {
      const error = skipped[0]!;
      const { lines, raw } = skippedAt(error);
      if (lines >= before) return;
      skipped.shift();
      const { first } = tracker.span(lines, raw);
      if (error.code === "CSV_MAX_RECORD_SIZE")
        throw recordTooLarge(path, lineLocation(first), maxRecordBytes, CSV_CAUSE);
      yield* badSpan(raw, first, width, error.code === "CSV_QUOTE_NOT_CLOSED" ? UNCLOSED_QUOTE : error.message);
    }
  }

  return {
    header: () => (headerCells ??= readHeader()),
    rows,
    bytesRead: () => input.bytesRead,
    close: () => {
      parser.destroy();
      input.destroy();
    },
  };
}

function readFailure(path: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  if ((error as NodeJS.ErrnoException | undefined)?.syscall !== undefined)
    return new CliError(fileErrorMessage(path, error));
  return new CliError(`${path}: not a readable CSV file (${error instanceof Error ? error.message : String(error)})`);
}

function* checkedRecord(
  cells: string[],
  raw: string,
  span: { first: number; last: number },
  width: number,
): Generator<SourceRow> {
  if (cells.length === width) {
    yield { kind: "csv", location: lineLocation(span.first, span.last), cells };
  } else {
    yield* badSpan(raw, span.first, width, `has ${cells.length} fields where the header has ${width}`);
  }
}

/**
 * A malformed record. When it spans several lines, the usual culprit is a quote opened on its
 * first line that never closed and swallowed the lines after it: that first line is reported,
 * and the rest is read again on its own so that the good rows in it still import. If the rest
 * yields no good row either, the whole span is reported as one bad row.
 */
function* badSpan(rawText: string, first: number, width: number, reason: string): Generator<SourceRow> {
  const raw = rawText.replace(/^[\r\n]+/, "");
  const lineBreak = raw.indexOf("\n");
  const rest = lineBreak === -1 ? "" : raw.slice(lineBreak + 1);
  if (rest.trim() !== "") {
    const reread = [...parseFragment(rest, first + 1, width)];
    if (reread.some((row) => row.kind === "csv")) {
      yield { kind: "unreadable", location: lineLocation(first), reason: UNCLOSED_QUOTE };
      yield* reread;
      return;
    }
  }
  const lines = occurrences(raw.replace(/\r?\n$/, ""), "\n");
  yield { kind: "unreadable", location: lineLocation(first, first + lines), reason };
}

/** Re-reads a bounded piece of the file (at most one over-long record) starting at `firstLine`. */
function parseFragment(text: string, firstLine: number, width: number): SourceRow[] {
  const skipped: CsvError[] = [];
  const records = parseSync(text, {
    ...PARSE_OPTIONS,
    on_skip: (error) => {
      if (error) skipped.push(error);
      return undefined;
    },
  }) as unknown as ParsedRecord[];
  // Records and skips merged back into file order (by csv-parse's own count) before numbering.
  const found = [
    ...records.map((record) => ({ lines: record.info.lines, record })),
    ...skipped.map((error) => ({ lines: skippedAt(error).lines, error })),
  ].sort((a, b) => a.lines - b.lines);
  const tracker = new LineTracker(firstLine - 1);
  return found.flatMap((entry): SourceRow[] => {
    if ("record" in entry)
      return [
        ...checkedRecord(entry.record.record, entry.record.raw, tracker.span(entry.lines, entry.record.raw), width),
      ];
    const { raw } = skippedAt(entry.error);
    const reason = entry.error.code === "CSV_QUOTE_NOT_CLOSED" ? UNCLOSED_QUOTE : entry.error.message;
    return [...badSpan(raw, tracker.span(entry.lines, raw).first, width, reason)];
  });
}
