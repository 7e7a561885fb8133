import { createReadStream } from "node:fs";
import { pipeline, type Duplex } from "node:stream";
import parser from "stream-json";
import pick from "stream-json/filters/pick.js";
import streamArray from "stream-json/streamers/stream-array.js";
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
    parser(),
  ];
  if (shape === "list") {
    stages.push(
      pick.asStream({
        // Only the top-level `data` array; `data` keys nested inside customers are part of them.
        filter: (stack) => {
          const hit = stack.length > 0 && stack[0] === "data";
          if (hit) sawData = true;
          return hit;
        },
      }),
    );
  }
  const elements = streamArray.asStream();
  pipeline([input, ...stages, elements], () => {
    // Errors reach the consumer through `elements`, which the pipeline destroys with them.
  });

  async function* rows(): AsyncGenerator<SourceRow> {
    const prefix = shape === "list" ? "data" : "";
    try {
      for await (const element of elements as AsyncIterable<{ key: number; value: unknown }>) {
        yield { kind: "json", location: `${prefix}[${element.key}]`, value: element.value };
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
