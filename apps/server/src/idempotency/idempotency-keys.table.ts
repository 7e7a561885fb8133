import type { Environment } from "@billingos/contracts";
import type { Selectable } from "kysely";

/** One answered mutation per Idempotency-Key of an organization and environment, kept 24 hours. */
export interface IdempotencyKeysTable {
  organization_id: string;
  environment: Environment;
  /** SHA-256 (hex) of the Idempotency-Key: the key itself is never stored. */
  key_hash: string;
  /** SHA-256 (hex) of the procedure and its validated input: a retry must send the same. */
  request_hash: string;
  created_at: number;
  /** The work's result, sealed (idempotency-answer.ts): only a caller holding the key can read it. */
  answer: string;
}

export type IdempotencyKeyRow = Selectable<IdempotencyKeysTable>;
