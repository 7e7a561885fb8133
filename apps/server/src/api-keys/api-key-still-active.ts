import type { Database } from "../db/database.js";
import { DomainError } from "../shared/domain-error.js";
import { isApiKeyActive } from "./api-keys.repository.js";

/** What a caller whose key is unknown or revoked is told, whenever that is found out. */
export const KEY_REFUSED = "Unknown or revoked secret key";

/**
 * Checks again, inside a write transaction, that an authenticated key is still unrevoked. A key is
 * authenticated before its request's transaction starts, so a revocation (by this process, the admin
 * CLI, another server) can commit in between. Write transactions are serialized, so a write that
 * passes this check commits before any later revocation, whose sweep then finds what it wrote.
 */
export async function assertApiKeyStillActive(trx: Database, key: { id: string }): Promise<void> {
  if (!(await isApiKeyActive(trx, key.id))) throw new DomainError("UNAUTHORIZED", KEY_REFUSED);
}
