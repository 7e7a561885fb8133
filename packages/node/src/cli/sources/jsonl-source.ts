import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { CliError } from "../cli-errors.js";
import { fileErrorMessage } from "./detect-format.js";
import { lineLocation, type SourceRow } from "./source-row.js";

export interface JsonLinesReader {
  rows(): AsyncGenerator<SourceRow>;
  bytesRead(): number;
}

function isListPage(value: unknown): value is { data: unknown[] } {
  const candidate = value as { object?: unknown; data?: unknown } | null;
  return typeof candidate === "object" && candidate !== null && candidate.object === "list" && Array.isArray(candidate.data);
}

/**
 * One JSON value per line (node:readline, so only one line is in memory). A line that is not
 * JSON is a bad row, not a bad file: the lines around it still import. A line holding a whole
 * list page (`{"object":"list","data":[…]}`, as saved page by page from the API) yields its
 * customers.
 */
export function readJsonLines(path: string): JsonLinesReader {
  const input = createReadStream(path);

  async function* rows(): AsyncGenerator<SourceRow> {
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
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
          yield { kind: "unreadable", location: lineLocation(lineNumber), reason: `not valid JSON (${(error as Error).message})` };
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
      throw new CliError(fileErrorMessage(path, error));
    } finally {
      lines.close();
      input.destroy();
    }
  }

  return { rows, bytesRead: () => input.bytesRead };
}
