/** One row as a reader found it, before it is mapped to a customer. */
export type SourceRow =
  /** A JSON value (an array element, a list's `data` element, or a JSON Lines line). */
  | { kind: "json"; location: string; value: unknown }
  /** A CSV record's cells, in the header's column order. */
  | { kind: "csv"; location: string; cells: string[] }
  /** A row that could not even be read (bad JSON on a line, broken CSV quoting). */
  | { kind: "unreadable"; location: string; reason: string };

/** "line 7", or "lines 7–9" for a CSV record whose quoted field spans lines. */
export function lineLocation(first: number, last = first): string {
  return first === last ? `line ${first}` : `lines ${first}–${last}`;
}
