import type { Metadata, Operation } from "@billingos/contracts";

// Columns stored as JSON text, read back. They were validated by the contracts' schemas when written.

export function parseOperations(json: string | null): Operation[] | null {
  return json === null ? null : (JSON.parse(json) as Operation[]);
}

export function parseMetadata(json: string | null): Metadata | null {
  return json === null ? null : (JSON.parse(json) as Metadata);
}
