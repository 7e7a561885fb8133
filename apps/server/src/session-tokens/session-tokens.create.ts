import {
  type createSessionTokenInput,
  DEFAULT_EXPIRES_IN,
  formatToken,
  normalizeEmail,
  type SessionTokenCreated,
} from "@billingos/contracts";
import type { z } from "zod";
import { holdingApiKey, KEY_REFUSED } from "../api-keys/api-key-still-active.js";
import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import { type AuditEntry, auditEventInsert, recordAuditEvent } from "../audit/audit.repository.js";
import { bindCustomerByEmail, mayBindByEmail } from "../customers/lazy-binding.js";
import { DomainError } from "../shared/domain-error.js";
import { newId } from "../shared/ids.js";
import { hashSecret, randomSecretBody } from "../shared/secrets.js";
import type { SessionTokenDeps } from "./session-tokens.deps.js";
import { insertSessionToken, readCreationState, storeTokenUnlessBindDue } from "./session-tokens.repository.js";
import type { NewSessionTokenRow } from "./session-tokens.table.js";

/**
 * Stores a new token and, in the same write, binds an imported customer by email (SPEC §5) and reads
 * the maintained count of customers still awaiting a bind. Most creations need no bind (no email,
 * or no unbound customer of the scope has it): they are one guarded write (on PostgreSQL one statement,
 * one round trip; on SQLite a unit sharing its commit with those arriving with it). A creation
 * that may bind runs as a unit of its own, where the bind and the token are stored together.
 */
export async function createSessionToken(
  { store, clock, lazyBindingRequiresVerifiedEmail = false }: SessionTokenDeps,
  key: AuthenticatedKey,
  input: z.output<typeof createSessionTokenInput>,
): Promise<SessionTokenCreated> {
  const sessionToken = formatToken("sessionToken", key.environment, randomSecretBody());
  const now = clock.now();
  const token = tokenRow(key, input, hashSecret(sessionToken), now);
  const audit = createdEvent(key, input, token);
  const answer = (unresolvedCustomers: number): SessionTokenCreated => ({
    tokenId: token.id,
    sessionToken,
    expiresAt: new Date(token.expires_at),
    ...(unresolvedCustomers > 0 ? { unresolvedCustomers } : {}),
  });

  const mayBind = mayBindByEmail(input, lazyBindingRequiresVerifiedEmail);
  const bindEmail = mayBind ? normalizeEmail(input.email) : null;
  const written = await storeTokenUnlessBindDue(store, key, bindEmail, token, auditEventInsert(key, audit, now));
  if (written !== undefined) {
    if (!written.keyActive) throw new DomainError("UNAUTHORIZED", KEY_REFUSED);
    if (written.stored) return answer(written.unresolvedCount);
  }

  return store.groupedTransaction(async (trx) => {
    // The key may have been revoked since it was authenticated: a token stored now would outlive
    // the revocation's sweep. The unit holds the key's lock shared from BEGIN (a revocation holds
    // it exclusively), so the key read here stays unrevoked until this commits; refused, this unit
    // alone fails and stores nothing.
    const state = await readCreationState(trx, key);
    if (!state.keyActive) throw new DomainError("UNAUTHORIZED", KEY_REFUSED);
    let unresolvedCustomers = state.unresolvedCount;
    // No customer awaits a bind, so none can be a candidate: the lookup is skipped. Otherwise the
    // count is read again after the attempt: a bind committed meanwhile by another connection
    // (which the attempt may have found) must show in it too.
    if (unresolvedCustomers > 0 && mayBind) {
      await bindCustomerByEmail(trx, key, input, now, audit.actor, lazyBindingRequiresVerifiedEmail);
      unresolvedCustomers = (await readCreationState(trx, key)).unresolvedCount;
    }
    await insertSessionToken(trx, token);
    await recordAuditEvent(trx, key, audit, now);
    return answer(unresolvedCustomers);
  }, holdingApiKey(key.id));
}

function tokenRow(
  key: AuthenticatedKey,
  input: z.output<typeof createSessionTokenInput>,
  tokenHash: string,
  now: number,
): NewSessionTokenRow {
  return {
    id: newId("tok", now),
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
    expires_at: now + (input.expiresIn ?? DEFAULT_EXPIRES_IN) * 1000,
    revoked_at: null,
    revocation_reason: null,
  };
}

function createdEvent(
  key: AuthenticatedKey,
  input: z.output<typeof createSessionTokenInput>,
  token: NewSessionTokenRow,
): AuditEntry {
  return {
    action: "session_token.created",
    actor: { type: "api_key", id: key.id },
    subjectId: token.id,
    externalUserId: input.externalUserId,
    details: {
      expiresAt: new Date(token.expires_at).toISOString(),
      allowedOperations: input.allowedOperations ?? null,
    },
  };
}
