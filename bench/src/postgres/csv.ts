/** One CSV field as PostgreSQL's COPY (FORMAT csv) reads it: an unquoted empty field is NULL, a quoted one a string. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "string") return `"${value.replaceAll('"', '""')}"`;
  throw new Error(`cannot copy a ${typeof value} into PostgreSQL as CSV`);
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(",")}\n`;
}
