import type { AuditActorType } from "@billingos/contracts";
import type { Queryable } from "../store/queryable.js";
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
export async function assertApiKeyStillActive(trx: Queryable, key: { id: string }): Promise<void> {
  if (!(await isApiKeyActive(trx, key.id))) throw new DomainError("UNAUTHORIZED", KEY_REFUSED);
}

/**
 * The same check for a write made on behalf of `actor`: a merchant's key (an import, a bind or
 * unbind through the API) must still be active; an operator at the admin CLI has no key to check.
 */
export async function assertActorStillActive(trx: Queryable, actor: { type: AuditActorType; id: string | null }): Promise<void> {
  if (actor.type === "api_key" && actor.id !== null) await assertApiKeyStillActive(trx, { id: actor.id });
}
