import type { Environment } from "@billingos/contracts";
import type { Insertable, Selectable } from "kysely";

/** Who ended a token early: the merchant (by id or token), a revoke-all, its key's revocation, or its holder. */
export type RevocationReason = "revoked" | "customer_revoked" | "key_revoked" | "signed_out";

export interface SessionTokensTable {
  id: string;
  /** SHA-256 of the token, hex. The token itself is returned once at creation and never stored. */
  token_hash: string;
  organization_id: string;
  environment: Environment;
  api_key_id: string;
  external_user_id: string;
  external_organization_id: string | null;
  email: string | null;
  /** JSON array of operation names; null allows every operation. */
  allowed_operations: string | null;
  /** JSON object, or null. */
  metadata: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revocation_reason: RevocationReason | null;
}

export type SessionTokenRow = Selectable<SessionTokensTable>;
export type NewSessionTokenRow = Insertable<SessionTokensTable>;
