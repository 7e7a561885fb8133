import { type CustomerToImport, MAX_IMPORT_BATCH } from "@billingos/contracts";

export const DEFAULT_BATCH_ROWS = 500;

/**
 * The server refuses bodies over 1 MiB (DEFAULT_MAX_BODY_BYTES). Batches stop well short of it,
 * leaving room for the envelope and for a proxy in front that counts differently.
 */
export const MAX_BATCH_BYTES = 768 * 1024;

export interface BatchLimits {
  /** 1–MAX_IMPORT_BATCH customers. */
  rows: number;
  /** Serialized JSON bytes of the customers. */
  bytes: number;
}

export interface Batch {
  customers: CustomerToImport[];
  bytes: number;
}

/** `{"customers":[` … `],"dryRun":false}` */
const ENVELOPE_BYTES = 40;

/**
 * Groups customers into batches of at most `limits.rows` customers and `limits.bytes` bytes of
 * JSON, in file order. Holds one batch at a time, so memory stays bounded by the limits.
 */
export async function* batches(customers: AsyncIterable<CustomerToImport>, limits: BatchLimits): AsyncGenerator<Batch> {
  const maxRows = Math.min(Math.max(1, Math.floor(limits.rows)), MAX_IMPORT_BATCH);
  let current: CustomerToImport[] = [];
  let bytes = ENVELOPE_BYTES;
  for await (const customer of customers) {
    const size = Buffer.byteLength(JSON.stringify(customer)) + 1;
    if (current.length > 0 && (current.length >= maxRows || bytes + size > limits.bytes)) {
      yield { customers: current, bytes };
      current = [];
      bytes = ENVELOPE_BYTES;
    }
    current.push(customer);
    bytes += size;
  }
  if (current.length > 0) yield { customers: current, bytes };
}
