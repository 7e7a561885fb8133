import { createReadStream } from "node:fs";
import { type Duplex, pipeline } from "node:stream";
import parser from "stream-json";
import pick from "stream-json/filters/pick.js";
import streamArray from "stream-json/streamers/stream-array.js";
import streamValues from "stream-json/streamers/stream-values.js";
import { CliError } from "../cli-errors.js";
import { fileErrorMessage } from "./detect-format.js";
import { jsonRecordLimit } from "./json-record-meter.js";
import { JSON_CAUSE, recordTooLarge } from "./record-limit.js";
import type { SourceRow } from "./source-row.js";

export interface JsonReader {
  rows(): AsyncGenerator<SourceRow>;
  bytesRead(): number;
}

/**
 * Streams the elements of a JSON array, or of the `data` array of a Stripe list object, one at a
 * time (stream-json): only the element being read is ever in memory, whatever the file's size.
 * The whole document is still parsed to its end, so a file cut short is reported, not half-read
 * in silence. An element over `maxRecordBytes` stops the import as soon as the reader is that
 * far into it (see JsonRecordMeter), as any other damage to the file does.
 */
export function readJsonArray(path: string, shape: "array" | "list", size: number, maxRecordBytes: number): JsonReader {
  const input = createReadStream(path);
  let sawData = false;
  const stages: Duplex[] = [
    jsonRecordLimit(shape, maxRecordBytes, (location) => recordTooLarge(path, location, maxRecordBytes, JSON_CAUSE)),
    // A list may be several list objects one after the other: `stripe customers list` output saved
    // page after page with `>>`.
    parser({ jsonStreaming: shape === "list" }),
  ];
  /** Where each element the list stages will hand on came from: its list object (1, 2, …) and index. */
  const locations: string[] = [];
  let listNumber = 0;
  if (shape === "list") {
    stages.push(
      pick.asStream({
        // Each element of a top-level `data` array, one value at a time; `data` keys nested inside
        // customers are part of them. Called once at the start of each element (and of each list).
        filter: (stack, chunk) => {
          if (stack.length === 0 && (chunk as { name?: string } | undefined)?.name === "startObject") listNumber++;
          const hit = stack.length === 2 && stack[0] === "data" && typeof stack[1] === "number";
          if (hit) {
            sawData = true;
            locations.push(listNumber <= 1 ? `data[${stack[1]}]` : `list ${listNumber} data[${stack[1]}]`);
          }
          return hit;
        },
      }),
    );
  }
  const elements = shape === "list" ? streamValues.asStream() : streamArray.asStream();
  pipeline([input, ...stages, elements], () => {
    // Errors reach the consumer through `elements`, which the pipeline destroys with them.
  });

  async function* rows(): AsyncGenerator<SourceRow> {
    try {
      for await (const element of elements as AsyncIterable<{ key: number; value: unknown }>) {
        const location = shape === "list" ? (locations.shift() ?? `data[${element.key}]`) : `[${element.key}]`;
        yield { kind: "json", location, value: element.value };
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      if ((error as NodeJS.ErrnoException).syscall !== undefined) throw new CliError(fileErrorMessage(path, error));
      // The parser names no position, and the elements it had already parsed are dropped with
      // the stream: the byte count read so far is the best pointer to the damage.
      throw new CliError(
        `${path}: not valid JSON, or cut short (${error instanceof Error ? error.message : String(error)}; read up to byte ${input.bytesRead} of ${size})`,
      );
    } finally {
      input.destroy();
    }
    if (shape === "list" && !sawData) {
      throw new CliError(
        `${path}: a JSON object without a "data" array; expected a Stripe list object ({"object":"list","data":[…]}), an array of customers, or one customer per line`,
      );
    }
  }

  return { rows, bytesRead: () => input.bytesRead };
}
