import type { Environment } from "@billingos/contracts";
import type { Insertable, Selectable } from "kysely";

export interface ApiKeysTable {
  id: string;
  organization_id: string;
  environment: Environment;
  /** SHA-256 of the whole key, hex. The key itself is shown once and never stored. */
  key_hash: string;
  /** The key's last four characters, so operators can tell keys apart in listings. */
  key_hint: string;
  created_at: number;
  revoked_at: number | null;
}

export type ApiKeyRow = Selectable<ApiKeysTable>;
export type NewApiKeyRow = Insertable<ApiKeysTable>;
