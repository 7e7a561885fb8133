import {
  type createSessionTokenInput,
  DEFAULT_EXPIRES_IN,
  formatToken,
  type SessionTokenCreated,
} from "@billingos/contracts";
import type { z } from "zod";
import { holdingApiKey, KEY_REFUSED } from "../api-keys/api-key-still-active.js";
import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import { recordAuditEvent } from "../audit/audit.repository.js";
import { bindCustomerByEmail } from "../customers/lazy-binding.js";
import { DomainError } from "../shared/domain-error.js";
import { newId } from "../shared/ids.js";
import { hashSecret, randomSecretBody } from "../shared/secrets.js";
import type { SessionTokenDeps } from "./session-tokens.deps.js";
import { insertSessionToken, readCreationState } from "./session-tokens.repository.js";

/**
 * Stores a new token and, in the same write transaction, binds an imported customer by email
 * (SPEC §5) and reads the maintained count of customers still awaiting a bind. Concurrent creations
 * share one commit (group commit). Three statements besides BEGIN and COMMIT when no customer of
 * the scope awaits a bind or no email is given (on PostgreSQL each is a round trip).
 */
export async function createSessionToken(
  { store, clock, lazyBindingRequiresVerifiedEmail = false }: SessionTokenDeps,
  key: AuthenticatedKey,
  input: z.output<typeof createSessionTokenInput>,
): Promise<SessionTokenCreated> {
  const sessionToken = formatToken("sessionToken", key.environment, randomSecretBody());
  const tokenHash = hashSecret(sessionToken);
  return store.groupedTransaction(async (trx) => {
    // The key may have been revoked since it was authenticated: a token stored now would outlive
    // the revocation's sweep. The unit holds the key's lock shared from BEGIN (a revocation holds
    // it exclusively), so the key read here stays unrevoked until this commits; refused, this unit
    // alone fails and stores nothing.
    const state = await readCreationState(trx, key);
    if (!state.keyActive) throw new DomainError("UNAUTHORIZED", KEY_REFUSED);
    let unresolvedCustomers = state.unresolvedCount;
    const now = clock.now();
    const tokenId = newId("tok", now);
    const expiresAt = now + (input.expiresIn ?? DEFAULT_EXPIRES_IN) * 1000;
    // No customer awaits a bind, so none can be a candidate: the lookup is skipped (most creations).
    // Otherwise the count is read again after the attempt: a bind committed meanwhile by another
    // connection (which the attempt may have found) must show in it too.
    if (unresolvedCustomers > 0 && input.email != null) {
      await bindCustomerByEmail(
        trx,
        key,
        input,
        now,
        { type: "api_key", id: key.id },
        lazyBindingRequiresVerifiedEmail,
      );
      unresolvedCustomers = (await readCreationState(trx, key)).unresolvedCount;
    }
    await insertSessionToken(trx, {
      id: tokenId,
      token_hash: tokenHash,
      organization_id: key.organizationId,
      environment: key.environment,
      api_key_id: key.id,
      external_user_id: input.externalUserId,
      external_organization_id: input.externalOrganizationId ?? null,
      email: input.email ?? null,
      allowed_operations: input.allowedOperations ? JSON.stringify(input.allowedOperations) : null,
      metadata: input.metadata ? JSON.stringify(input.metadata) : null,
      created_at: now,
      expires_at: expiresAt,
      revoked_at: null,
      revocation_reason: null,
    });
    await recordAuditEvent(
      trx,
      key,
      {
        action: "session_token.created",
        actor: { type: "api_key", id: key.id },
        subjectId: tokenId,
        externalUserId: input.externalUserId,
        details: { expiresAt: new Date(expiresAt).toISOString(), allowedOperations: input.allowedOperations ?? null },
      },
      now,
    );
    return {
      tokenId,
      sessionToken,
      expiresAt: new Date(expiresAt),
      ...(unresolvedCustomers > 0 ? { unresolvedCustomers } : {}),
    };
  }, holdingApiKey(key.id));
}
