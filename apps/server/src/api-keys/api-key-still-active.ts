import type { AuditActorType } from "@billingos/contracts";
import { DomainError } from "../shared/domain-error.js";
import type { Queryable } from "../store/queryable.js";
import type { TransactionOptions } from "../store/store.js";
import { isApiKeyActive } from "./api-keys.repository.js";

/** The lock key a key's revocation holds exclusively and every write made with the key holds shared. */
export function apiKeyLockKey(id: string): string {
  return `api-key:${id}`;
}

/**
 * For a write made with a key that checks the key itself (session-token creation): the unit holds
 * the key's lock shared from its start, as assertApiKeyStillActive would take it.
 */
export function holdingApiKey(id: string): TransactionOptions {
  return { lock: { key: apiKeyLockKey(id), mode: "shared" } };
}

/** What a caller whose key is unknown or revoked is told, whenever that is found out. */
export const KEY_REFUSED = "Unknown or revoked secret key";

/**
 * Checks again, inside a write transaction, that an authenticated key is still unrevoked. A key is
 * authenticated before its request's transaction starts, so a revocation (by this process, the admin
 * CLI, another server) can commit in between. The check holds the key's lock shared until the write
 * commits, and a revocation holds it exclusively: a write that passes this check commits before the
 * revocation's sweep runs, which then finds what it wrote (on SQLite, write transactions are
 * serialized anyway). Writes of one key still run side by side.
 */
export async function assertApiKeyStillActive(trx: Queryable, key: { id: string }): Promise<void> {
  await trx.lock(apiKeyLockKey(key.id), "shared");
  if (!(await isApiKeyActive(trx, key.id))) throw new DomainError("UNAUTHORIZED", KEY_REFUSED);
}

/**
 * The same check for a write made on behalf of `actor`: a merchant's key (an import, a bind or
 * unbind through the API) must still be active; an operator at the admin CLI has no key to check.
 */
export async function assertActorStillActive(
  trx: Queryable,
  actor: { type: AuditActorType; id: string | null },
): Promise<void> {
  if (actor.type === "api_key" && actor.id !== null) await assertApiKeyStillActive(trx, { id: actor.id });
}
