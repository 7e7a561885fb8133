import { createReadStream } from "node:fs";
import { CliError } from "../cli-errors.js";
import { boundedLines } from "./bounded-lines.js";
import { fileErrorMessage } from "./detect-format.js";
import { JSON_CAUSE, recordTooLarge } from "./record-limit.js";
import { lineLocation, type SourceRow } from "./source-row.js";

export interface JsonLinesReader {
  rows(): AsyncGenerator<SourceRow>;
  bytesRead(): number;
}

function isListPage(value: unknown): value is { data: unknown[] } {
  const candidate = value as { object?: unknown; data?: unknown } | null;
  return (
    typeof candidate === "object" && candidate !== null && candidate.object === "list" && Array.isArray(candidate.data)
  );
}

/**
 * One JSON value per line (LF or CRLF), only one line in memory at a time. A line that is not
 * JSON is a bad row, not a bad file: the lines around it still import. A line holding a whole
 * list page (`{"object":"list","data":[…]}`, as saved page by page from the API) yields its
 * customers. A line over `maxRecordBytes` stops the import as soon as the reader is that far
 * into it: skipping it would still mean reading it to its end, and a line that long is a file
 * whose line breaks went missing, not a customer.
 */
export function readJsonLines(path: string, maxRecordBytes: number): JsonLinesReader {
  const input = createReadStream(path);

  async function* rows(): AsyncGenerator<SourceRow> {
    const lines = boundedLines(input, maxRecordBytes, (line) =>
      recordTooLarge(path, lineLocation(line), maxRecordBytes, JSON_CAUSE),
    );
    let lineNumber = 0;
    try {
      for await (const line of lines) {
        lineNumber++;
        const text = lineNumber === 1 ? line.replace(/^\uFEFF/, "") : line;
        if (text.trim() === "") continue;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch (error) {
          yield {
            kind: "unreadable",
            location: lineLocation(lineNumber),
            reason: `not valid JSON (${(error as Error).message})`,
          };
          continue;
        }
        if (isListPage(value)) {
          for (const [index, element] of value.data.entries()) {
            yield { kind: "json", location: `${lineLocation(lineNumber)}, data[${index}]`, value: element };
          }
        } else {
          yield { kind: "json", location: lineLocation(lineNumber), value };
        }
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new CliError(fileErrorMessage(path, error));
    } finally {
      input.destroy();
    }
  }

  return { rows, bytesRead: () => input.bytesRead };
}
