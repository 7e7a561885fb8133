import { apiCustomerObject, STRIPE_CSV_HEADER, stripeCsvRow, writeLines } from "./stripe-export-generator.js";

/** The shapes whose reader must refuse one record that will not fit, before holding it whole. */
export type HugeRecordShape = "jsonl" | "json-array" | "json-list" | "csv";

export interface HugeRecordExport {
  /** Good customers before the huge record (indexes 0…before-1). */
  before: number;
  /** Bytes of the huge record's padding. */
  hugeBytes: number;
  /** Good customers after it (in a CSV, swallowed by its unclosed quote). */
  after: number;
  prefix: string;
}

/** Where each shape's reader should say the huge record is, for `before` good records first. */
export function hugeRecordLocation(shape: HugeRecordShape, before: number): string {
  switch (shape) {
    case "jsonl":
      return `line ${before + 1}`;
    case "json-array":
      return `[${before}]`;
    case "json-list":
      return `data[${before}]`;
    case "csv":
      // The header is line 1, and every 1000th row spans two lines (see generatedCustomer).
      return `line ${before + 2 + Math.ceil(before / 1000)}`;
  }
}

const MIB = "x".repeat(1024 * 1024);

/** `bytes` of padding, a MiB at a time, so the generator never holds the record whole. */
function* padding(bytes: number): Generator<string> {
  for (let left = bytes; left > 0; left -= MIB.length) yield left >= MIB.length ? MIB : MIB.slice(0, left);
}

/**
 * A Stripe export with one customer far larger than any real one in the middle: a JSON record
 * whose description runs to `hugeBytes`, or a CSV row whose quoted description never closes and
 * swallows `hugeBytes` of lines after it. Written as a stream.
 */
export async function writeHugeRecordExport(
  path: string,
  shape: HugeRecordShape,
  spec: HugeRecordExport,
): Promise<void> {
  const total = spec.before + 1 + spec.after;
  const hugeId = `cus_${spec.prefix}Huge`;
  const json = (i: number) => JSON.stringify(apiCustomerObject(i, total, spec.prefix));
  const good = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

  function* jsonElements(separator: string): Generator<string> {
    for (const i of good(0, spec.before)) yield `${json(i)}${separator}`;
    yield `{"id":"${hugeId}","object":"customer","description":"`;
    yield* padding(spec.hugeBytes);
    yield `"}`;
    for (const i of good(spec.before + 1, total)) yield `${separator}${json(i)}`;
  }

  function* lines(): Generator<string> {
    switch (shape) {
      case "jsonl":
        yield* jsonElements("\n");
        yield "\n";
        return;
      case "json-array":
        yield "[";
        yield* jsonElements(",");
        yield "]";
        return;
      case "json-list":
        yield '{"object":"list","data":[';
        yield* jsonElements(",");
        yield '],"has_more":false,"url":"/v1/customers"}';
        return;
      case "csv": {
        yield STRIPE_CSV_HEADER;
        for (const i of good(0, spec.before)) yield stripeCsvRow(i, total, spec.prefix);
        // The quote opened here never closes: the rows after it, holding no quote of their own,
        // all become part of this one field.
        yield `${hugeId},"Notes start here,a@example.com\n`;
        let written = 0;
        for (let i = spec.before + 1; written < spec.hugeBytes; i++) {
          const row = `cus_${spec.prefix}${i},Plan note ${i},customer.${i}@example.com,Customer ${i},2023-01-01 00:00:00,,,usd,0,false,,,\n`;
          written += row.length;
          yield row;
        }
        return;
      }
    }
  }
  await writeLines(path, lines());
}
