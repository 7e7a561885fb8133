import { type CustomerToImport, customerToImport } from "@billingos/contracts";

/**
 * Stripe customers, as the API's JSON or the dashboard's CSV export have them, mapped to what the
 * import API takes. Only the id, email, name, metadata and creation time are kept; every other
 * Stripe field (address, balance, cards, tax ids, …) is ignored.
 *
 * Both formats map the same customer to the same value (empty strings and empty metadata become
 * absent, metadata keys are sorted), so importing a customer from the JSON and then from the CSV,
 * or the reverse, reports it unchanged.
 */
/**
 * A customer to import, or why not: a bad row (`reason` says what to fix), or a customer deleted
 * in Stripe (`deleted`), which is left out on purpose and is nothing to fix.
 */
export type MappedCustomer = { ok: true; customer: CustomerToImport } | { ok: false; reason: string; deleted?: true };

type Field = keyof CustomerToImport;

/** Source names of the fields, so an error names the column or key the merchant sees. */
const API_FIELD_NAMES: Record<Field, string> = {
  stripeCustomerId: "id",
  email: "email",
  name: "name",
  metadata: "metadata",
  createdAt: "created",
};

const CSV_FIELD_NAMES: Record<Field, string> = {
  stripeCustomerId: "id",
  email: "Email",
  name: "Name",
  metadata: "(metadata) columns",
  createdAt: "Created (UTC)",
};

const METADATA_COLUMN = /^(.+) \(metadata\)$/;

/** Where the columns that matter sit in the dashboard export; found by name, in any order. */
export interface CsvLayout {
  id: number;
  email: number | undefined;
  name: number | undefined;
  created: number | undefined;
  metadata: { key: string; index: number }[];
}

/** Null when the header has no `id` column: then the file is no Stripe customer export. */
export function csvLayoutOf(header: readonly string[]): CsvLayout | null {
  const byName = new Map<string, number>();
  header.forEach((name, index) => {
    const key = name.trim().toLowerCase();
    if (!byName.has(key)) byName.set(key, index);
  });
  const id = byName.get("id");
  if (id === undefined) return null;
  const metadata: CsvLayout["metadata"] = [];
  header.forEach((name, index) => {
    const match = METADATA_COLUMN.exec(name.trim());
    if (match) metadata.push({ key: match[1]!, index });
  });
  return {
    id,
    email: byName.get("email"),
    name: byName.get("name"),
    // Older exports call it "Created", newer ones "Created (UTC)"; both are UTC.
    created: byName.get("created (utc)") ?? byName.get("created"),
    metadata: metadata.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
  };
}

/**
 * `Name` only. `Description` is not a fallback: it is a free-text note in Stripe (often a plan or
 * an internal remark), the API JSON's `description` is not mapped either, and the two formats
 * must give the same customer the same name.
 */
export function customerFromCsvCells(cells: readonly string[], layout: CsvLayout): MappedCustomer {
  const cell = (index: number | undefined) => (index === undefined ? undefined : cells[index] || undefined);
  const id = cells[layout.id];
  if (!id) return { ok: false, reason: "id: missing" };
  const candidate: Record<string, unknown> = { stripeCustomerId: id };
  const email = cell(layout.email);
  if (email !== undefined) candidate.email = email;
  const name = cell(layout.name);
  if (name !== undefined) candidate.name = name;
  const metadata: Record<string, string> = {};
  for (const { key, index } of layout.metadata) {
    const value = cells[index];
    if (value) metadata[key] = value;
  }
  if (Object.keys(metadata).length > 0) candidate.metadata = metadata;
  const created = cell(layout.created);
  if (created !== undefined) {
    const iso = isoFromCsvDate(created);
    if (iso === null)
      return { ok: false, reason: `Created (UTC): ${JSON.stringify(created)} is not a date like 2023-04-05 12:34:56` };
    candidate.createdAt = iso;
  }
  return validated(candidate, CSV_FIELD_NAMES);
}

/** A Stripe customer object, as the API (and so `stripe customers list`) returns it. */
export function customerFromApiObject(value: unknown): MappedCustomer {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      reason: `not a JSON object (got ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value})`,
    };
  }
  const object = value as Record<string, unknown>;
  if (object.object !== undefined && object.object !== "customer") {
    return { ok: false, reason: `not a customer (object: ${JSON.stringify(object.object)})` };
  }
  // What `stripe customers list` and the API return for a deleted customer: `{ id, object, deleted: true }`.
  if (object.deleted === true) {
    const id = typeof object.id === "string" ? `${object.id} ` : "";
    return { ok: false, deleted: true, reason: `${id}was deleted in Stripe; not imported` };
  }
  if (object.id === undefined) return { ok: false, reason: "id: missing" };

  const candidate: Record<string, unknown> = { stripeCustomerId: object.id };
  // Empty or null fields are left out, as the CSV leaves out empty cells.
  if (object.email !== undefined && object.email !== null && object.email !== "") candidate.email = object.email;
  if (object.name !== undefined && object.name !== null && object.name !== "") candidate.name = object.name;
  const metadata = object.metadata;
  if (typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)) {
    const keys = Object.keys(metadata).sort();
    if (keys.length > 0)
      candidate.metadata = Object.fromEntries(keys.map((key) => [key, (metadata as Record<string, unknown>)[key]]));
  } else if (metadata !== undefined && metadata !== null) {
    candidate.metadata = metadata;
  }
  if (object.created !== undefined && object.created !== null) {
    const created = object.created;
    if (typeof created !== "number" || !Number.isSafeInteger(created) || created < 0) {
      return { ok: false, reason: `created: ${JSON.stringify(created)} is not a Unix time in seconds` };
    }
    candidate.createdAt = new Date(created * 1000).toISOString();
  }
  return validated(candidate, API_FIELD_NAMES);
}

/** Checked with the import API's own schema, so a row the server would refuse never leaves. */
function validated(candidate: Record<string, unknown>, names: Record<Field, string>): MappedCustomer {
  const result = customerToImport.safeParse(candidate);
  if (result.success) return { ok: true, customer: candidate as CustomerToImport };
  const reasons = result.error.issues.map((issue) => {
    const [field, ...rest] = issue.path.map(String);
    const name = field === undefined ? "row" : (names[field as Field] ?? field);
    // A bad id quotes what the file holds, so the row can be found and fixed.
    const got = field === "stripeCustomerId" && rest.length === 0 ? ` (got ${quoted(candidate.stripeCustomerId)})` : "";
    return `${[name, ...rest].join(".")}: ${issue.message}${got}`;
  });
  return { ok: false, reason: reasons.join("; ") };
}

/** A value as JSON, cut to 60 characters: enough to recognise it, never a whole damaged record. */
function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

const CSV_DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?\s*(?:Z|UTC|[+-]00:?00)?$/;

/** "2023-04-05 12:34:56" (the export's UTC time, seconds optional) to an ISO instant; null if not a real date. */
export function isoFromCsvDate(text: string): string | null {
  const match = CSV_DATE.exec(text.trim());
  if (!match) return null;
  const [, year, month, day, hour, minute, second = "0", fraction = ""] = match;
  const parts = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Math.round(Number(fraction || 0) * 1000);
  const date = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5], millis));
  // Date.UTC rolls 2023-02-30 over into March; a real date survives the round trip.
  if (
    date.getUTCMonth() !== parts[1] - 1 ||
    date.getUTCDate() !== parts[2] ||
    parts[3] > 23 ||
    parts[4] > 59 ||
    parts[5] > 59
  ) {
    return null;
  }
  return date.toISOString();
}
