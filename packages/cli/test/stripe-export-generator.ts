import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { UnresolvedCounts } from "@billingos/contracts";

/**
 * Writes realistic Stripe exports of `rows` customers, generated row by row (never the whole
 * file in memory), with a known outcome:
 * - every 10th customer (i % 10 == 0) carries `user_id` metadata: pre-bound at import;
 * - i % 10 == 1 has no email: unresolved `no_email`;
 * - i % 10 == 2 shares its email with the customer half the file away (different case and
 *   surrounding spaces, so only normalization matches them): both `email_shared`, in batches far apart;
 * - the rest have an email of their own: `awaiting_first_session`.
 * Every 1000th row's description spans two lines, and company names hold commas and quotes.
 */
export interface ExpectedImport {
  rows: number;
  created: number;
  preBound: number;
  /** A fresh import undoes no binding; the report prints binding_undone only when there is one. */
  unresolved: Omit<UnresolvedCounts, "binding_undone">;
}

export function expectedImport(rows: number): ExpectedImport {
  let preBound = 0;
  let noEmail = 0;
  let shared = 0;
  for (let i = 0; i < rows; i++) {
    if (i % 10 === 0) preBound++;
    else if (i % 10 === 1) noEmail++;
    else if (i % 10 === 2) shared++;
  }
  return {
    rows,
    created: rows,
    preBound,
    unresolved: { awaiting_first_session: rows - preBound - noEmail - shared, no_email: noEmail, email_shared: shared },
  };
}

export interface GeneratedCustomer {
  id: string;
  email: string | null;
  name: string;
  description: string;
  created: number;
  metadata: Record<string, string>;
}

/** Needs `rows` divisible by 20, so that partners of shared emails exist. */
export function generatedCustomer(i: number, rows: number, prefix: string): GeneratedCustomer {
  const half = rows / 2;
  const metadata: Record<string, string> = {};
  if (i % 10 === 0) metadata.user_id = `user_${prefix}_${i}`;
  if (i % 3 === 0) metadata.plan = "pro";
  if (i % 7 === 0) metadata.company = `Acme, "Widgets" ${i}`;
  let email: string | null = `customer.${prefix}.${i}@example.com`;
  if (i % 10 === 1) email = null;
  if (i % 10 === 2)
    email = i < half ? `shared.${prefix}.${i}@example.com` : `  Shared.${prefix}.${i - half}@EXAMPLE.com `;
  return {
    id: `cus_${prefix}${i.toString(36).padStart(6, "0")}`,
    email,
    name: `Customer ${i}`,
    description: i % 1000 === 0 ? `Migrated account\nsee ticket ${i}` : i % 2 === 0 ? `Plan note ${i}` : "",
    created: 1_672_531_200 + i * 60,
    metadata,
  };
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function utcText(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19);
}

export async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  for (const line of lines) {
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

const CSV_HEADER = [
  "id",
  "Description",
  "Email",
  "Name",
  "Created (UTC)",
  "Card ID",
  "Card Last4",
  "Currency",
  "Balance",
  "Delinquent",
  "company (metadata)",
  "plan (metadata)",
  "user_id (metadata)",
];

/** One row of the dashboard's customer export, with its line break. */
export function stripeCsvRow(i: number, rows: number, prefix: string, pad = ""): string {
  const c = generatedCustomer(i, rows, prefix);
  const cells = [
    c.id,
    c.description + pad,
    c.email ?? "",
    c.name,
    utcText(c.created),
    i % 4 === 0 ? `card_${i}` : "",
    i % 4 === 0 ? "4242" : "",
    "usd",
    "0",
    "false",
    c.metadata.company ?? "",
    c.metadata.plan ?? "",
    c.metadata.user_id ?? "",
  ];
  return `${cells.map(csvCell).join(",")}\n`;
}

export const STRIPE_CSV_HEADER = `${CSV_HEADER.join(",")}\n`;

/** The dashboard's customer export, as Stripe writes it (header, CRLF-free, quoted where needed). */
export async function writeStripeCsv(
  path: string,
  rows: number,
  prefix: string,
  options: { padding?: number } = {},
): Promise<void> {
  const pad = "x".repeat(options.padding ?? 0);
  function* lines(): Generator<string> {
    yield STRIPE_CSV_HEADER;
    for (let i = 0; i < rows; i++) yield stripeCsvRow(i, rows, prefix, pad);
  }
  await writeLines(path, lines());
}

/** One customer as the API returns it, with the fields the import ignores left in. */
export function apiCustomerObject(i: number, rows: number, prefix: string): Record<string, unknown> {
  const c = generatedCustomer(i, rows, prefix);
  return {
    id: c.id,
    object: "customer",
    address: null,
    balance: 0,
    created: c.created,
    currency: "usd",
    delinquent: false,
    description: c.description || null,
    email: c.email,
    invoice_prefix: "ABC123",
    livemode: false,
    metadata: c.metadata,
    name: c.name,
    phone: null,
    preferred_locales: [],
    tax_exempt: "none",
  };
}

/** The API's customer objects, one per line. */
export async function writeStripeJsonLines(path: string, rows: number, prefix: string): Promise<void> {
  function* lines(): Generator<string> {
    for (let i = 0; i < rows; i++) yield `${JSON.stringify(apiCustomerObject(i, rows, prefix))}\n`;
  }
  await writeLines(path, lines());
}
