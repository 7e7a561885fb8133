import {
  type AuditAction,
  type CustomerSessionTokensRevoked,
  parseToken,
  type revokeCustomerSessionTokensInput,
  type revokeSessionTokenInput,
  type SessionTokenRevoked,
} from "@billingos/contracts";
import type { z } from "zod";
import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import { type AuditEntry, recordAuditEvent, recordTokenRevocations } from "../audit/audit.repository.js";
import { DomainError } from "../shared/domain-error.js";
import type { Scope } from "../shared/scope.js";
import { hashSecret } from "../shared/secrets.js";
import type { Queryable } from "../store/queryable.js";
import type { ActiveSessionToken } from "./session-tokens.check.js";
import type { SessionTokenDeps } from "./session-tokens.deps.js";
import {
  type BulkRevocation,
  findSessionTokenInScope,
  findTokensForBulkRevocation,
  markTokensRevokedInBulk,
  revokeSessionTokenInScope,
} from "./session-tokens.repository.js";
import type { RevocationReason } from "./session-tokens.table.js";

/**
 * Revokes one token of this scope. Idempotent: a token already revoked keeps, and returns, its
 * first revocation time. The first revocation is audited with who did it. Concurrent revocations
 * (a burst of sign-outs) share one commit, as creations do.
 */
async function revokeOne(
  { store, clock }: SessionTokenDeps,
  scope: Scope,
  match: { id: string } | { tokenHash: string },
  by: { reason: RevocationReason; action: AuditAction; actor: AuditEntry["actor"] },
): Promise<SessionTokenRevoked> {
  return store.groupedTransaction(async (trx) => {
    const now = clock.now();
    const token = await revokeSessionTokenInScope(trx, scope, match, now, by.reason);
    if (token === undefined) {
      // Unknown here, or revoked already (perhaps a moment ago by a revocation running beside this
      // one on PostgreSQL): that first revocation stands, audited once; answer with its time.
      const found = await findSessionTokenInScope(trx, scope, match);
      if (found === undefined || found.revoked_at === null) {
        const what = "id" in match ? `session token ${match.id}` : "such session token";
        throw new DomainError("NOT_FOUND", `No ${what} in this organization's ${scope.environment} environment`);
      }
      return { tokenId: found.id, revokedAt: new Date(found.revoked_at) };
    }
    await recordAuditEvent(
      trx,
      scope,
      { action: by.action, actor: by.actor, subjectId: token.id, externalUserId: token.external_user_id },
      now,
    );
    return { tokenId: token.id, revokedAt: new Date(now) };
  });
}

export async function revokeSessionToken(
  deps: SessionTokenDeps,
  key: AuthenticatedKey,
  input: z.output<typeof revokeSessionTokenInput>,
): Promise<SessionTokenRevoked> {
  let match: { id: string } | { tokenHash: string };
  if (input.sessionToken !== undefined) {
    const parsed = parseToken(input.sessionToken, "sessionToken");
    if (parsed === null) {
      throw new DomainError(
        "BAD_REQUEST",
        "sessionToken is not a BillingOS session token (bad prefix, length or checksum)",
      );
    }
    if (parsed.environment !== key.environment) {
      throw new DomainError(
        "BAD_REQUEST",
        `This is a ${parsed.environment} session token; revoke it with a ${parsed.environment} secret key`,
      );
    }
    match = { tokenHash: hashSecret(input.sessionToken) };
  } else {
    match = { id: input.tokenId! };
  }
  return revokeOne(deps, key, match, {
    reason: "revoked",
    action: "session_token.revoked",
    actor: { type: "api_key", id: key.id },
  });
}

/** The holder of a token revokes it (the browser's sign-out). */
export async function signOutSessionToken(
  deps: SessionTokenDeps,
  token: ActiveSessionToken,
): Promise<SessionTokenRevoked> {
  return revokeOne(
    deps,
    token,
    { id: token.id },
    {
      reason: "signed_out",
      action: "session_token.signed_out",
      actor: { type: "session_token", id: token.id },
    },
  );
}

/**
 * Revokes many tokens at once inside the caller's write transaction, one audit event each.
 * Returns how many were revoked.
 */
export async function revokeTokensInBulk(
  trx: Queryable,
  target: BulkRevocation,
  by: { reason: RevocationReason; action: AuditAction; actor: AuditEntry["actor"] },
  now: number,
): Promise<number> {
  const tokens = await findTokensForBulkRevocation(trx, target);
  await recordTokenRevocations(trx, tokens, by, now);
  await markTokensRevokedInBulk(
    trx,
    tokens.map((token) => token.id),
    now,
    by.reason,
  );
  return tokens.length;
}

/**
 * Revokes every active token of one customer of `scope`: by the merchant's key (the API) or by an
 * operator (the admin CLI), as `actor` says; each revocation is audited as theirs.
 */
export async function revokeCustomerSessionTokens(
  { store, clock }: SessionTokenDeps,
  scope: Scope,
  input: z.output<typeof revokeCustomerSessionTokensInput>,
  actor: AuditEntry["actor"],
): Promise<CustomerSessionTokensRevoked> {
  return store.transaction(async (trx) => {
    const now = clock.now();
    const target: BulkRevocation =
      input.externalUserId !== undefined
        ? { scope, externalUserId: input.externalUserId, activeAt: now }
        : { scope, externalOrganizationId: input.externalOrganizationId!, activeAt: now };
    const revokedCount = await revokeTokensInBulk(
      trx,
      target,
      { reason: "customer_revoked", action: "session_token.revoked_for_customer", actor },
      now,
    );
    return { revokedCount, revokedAt: new Date(now) };
  });
}
