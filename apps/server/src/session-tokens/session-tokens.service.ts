import type { Store } from "../store/store.js";
import {
  type AuditAction,
  type CustomerSessionTokensRevoked,
  type Environment,
  type InvalidReason,
  type SessionCustomer,
  DEFAULT_EXPIRES_IN,
  type Metadata,
  type Operation,
  type SessionTokenCreated,
  type SessionTokenPage,
  type SessionTokenRevoked,
  type SessionTokenStatus,
  type SessionTokenVerification,
  type createSessionTokenInput,
  formatToken,
  type listSessionTokensInput,
  parseToken,
  type revokeCustomerSessionTokensInput,
  type revokeSessionTokenInput,
} from "@billingos/contracts";
import type { z } from "zod";
import { assertApiKeyStillActive } from "../api-keys/api-key-still-active.js";
import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import { type AuditEntry, recordAuditEvent, recordTokenRevocations } from "../audit/audit.repository.js";
import type { Scope } from "../shared/scope.js";
import { bindCustomerByEmail } from "../customers/lazy-binding.js";
import { readUnresolvedCount } from "../customers/imported-customers.repository.js";
import type { Queryable } from "../store/queryable.js";
import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import { newId } from "../shared/ids.js";
import { keysetPage } from "../shared/keyset-page.js";
import { digestSecret, hashSecret, randomSecretBody, storedDigestMatches } from "../shared/secrets.js";
import {
  findSessionTokenByHash,
  insertSessionToken,
  listSessionTokensOfCustomer,
  type BulkRevocation,
  findSessionTokenInScope,
  findTokensForBulkRevocation,
  markSessionTokenRevoked,
  markTokensRevokedInBulk,
} from "./session-tokens.repository.js";
import type { RevocationReason, SessionTokenRow } from "./session-tokens.table.js";

export interface SessionTokenDeps {
  store: Store;
  clock: Clock;
  /** Lazy binding uses only emails sent with `emailVerified: true`. Default: false. */
  lazyBindingRequiresVerifiedEmail?: boolean;
}

/**
 * Stores a new token and, in the same write transaction, binds an imported customer by email
 * (SPEC §5) and reads the maintained count of customers still awaiting a bind. Concurrent creations
 * share one commit (group commit).
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
    // the revocation's sweep. Refused here, this unit alone fails and stores nothing.
    await assertApiKeyStillActive(trx, key);
    const now = clock.now();
    const tokenId = newId("tok", now);
    const expiresAt = now + (input.expiresIn ?? DEFAULT_EXPIRES_IN) * 1000;
    await bindCustomerByEmail(trx, key, input, now, { type: "api_key", id: key.id }, lazyBindingRequiresVerifiedEmail);
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
    const unresolvedCustomers = await readUnresolvedCount(trx, key);
    return {
      tokenId,
      sessionToken,
      expiresAt: new Date(expiresAt),
      ...(unresolvedCustomers > 0 ? { unresolvedCustomers } : {}),
    };
  });
}

/** A token that may be used now, as the rest of the service sees it. */
export interface ActiveSessionToken {
  id: string;
  organizationId: string;
  environment: Environment;
  customer: SessionCustomer;
  allowedOperations: Operation[] | null;
  expiresAt: Date;
  metadata: Metadata | null;
}

export type SessionTokenCheck = { ok: true; token: ActiveSessionToken } | { ok: false; reason: InvalidReason };

/**
 * The one place that decides whether a token may be used now, for the merchant's verify and for
 * the browser's session calls alike. The checksum refuses typos and truncations before any
 * database read; the environment is read off the prefix. A token outside `scope` (another
 * organization) is reported exactly like one that does not exist.
 */
export async function checkSessionToken(
  { store, clock }: SessionTokenDeps,
  sessionToken: string,
  scope: { environments: readonly Environment[]; organizationId?: string },
  operation?: Operation,
): Promise<SessionTokenCheck> {
  const parsed = parseToken(sessionToken, "sessionToken");
  if (parsed === null) return { ok: false, reason: "malformed" };
  if (!scope.environments.includes(parsed.environment)) return { ok: false, reason: "wrong_environment" };

  const digest = digestSecret(sessionToken);
  const row = await findSessionTokenByHash(store, digest.hex);
  if (
    row === undefined ||
    (scope.organizationId !== undefined && row.organization_id !== scope.organizationId) ||
    !storedDigestMatches(row.token_hash, digest)
  ) {
    return { ok: false, reason: "not_found" };
  }
  if (row.revoked_at !== null || row.key_revoked_at !== null) return { ok: false, reason: "revoked" };
  if (clock.now() >= row.expires_at) return { ok: false, reason: "expired" };
  const allowedOperations = parseOperations(row.allowed_operations);
  if (operation !== undefined && allowedOperations !== null && !allowedOperations.includes(operation)) {
    return { ok: false, reason: "operation_not_allowed" };
  }
  return {
    ok: true,
    token: {
      id: row.id,
      organizationId: row.organization_id,
      environment: row.environment,
      customer: {
        externalUserId: row.external_user_id,
        externalOrganizationId: row.external_organization_id,
        email: row.email,
      },
      allowedOperations,
      expiresAt: new Date(row.expires_at),
      metadata: parseMetadata(row.metadata),
    },
  };
}

/** The merchant's verify: a token of this key's organization and environment, and if not, why. */
export async function verifySessionToken(
  deps: SessionTokenDeps,
  key: AuthenticatedKey,
  sessionToken: string,
  operation?: Operation,
): Promise<SessionTokenVerification> {
  const check = await checkSessionToken(
    deps,
    sessionToken,
    { environments: [key.environment], organizationId: key.organizationId },
    operation,
  );
  if (!check.ok) return { valid: false, reason: check.reason };
  // Written out rather than spread: on Node 20 a spread followed by more properties takes V8's slow
  // path (~1 µs), and this is the hot path.
  const { token } = check;
  return {
    valid: true,
    tokenId: token.id,
    environment: token.environment,
    customer: token.customer,
    allowedOperations: token.allowedOperations,
    expiresAt: token.expiresAt,
    metadata: token.metadata,
  };
}

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
    const token = await findSessionTokenInScope(trx, scope, match);
    if (token === undefined) {
      const what = "id" in match ? `session token ${match.id}` : "such session token";
      throw new DomainError("NOT_FOUND", `No ${what} in this organization's ${scope.environment} environment`);
    }
    if (token.revoked_at !== null) return { tokenId: token.id, revokedAt: new Date(token.revoked_at) };
    const now = clock.now();
    await markSessionTokenRevoked(trx, token.id, now, by.reason);
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
      throw new DomainError("BAD_REQUEST", "sessionToken is not a BillingOS session token (bad prefix, length or checksum)");
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
export async function signOutSessionToken(deps: SessionTokenDeps, token: ActiveSessionToken): Promise<SessionTokenRevoked> {
  return revokeOne(deps, token, { id: token.id }, {
    reason: "signed_out",
    action: "session_token.signed_out",
    actor: { type: "session_token", id: token.id },
  });
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

function statusOf(row: SessionTokenRow, now: number): SessionTokenStatus {
  if (row.revoked_at !== null) return "revoked";
  return now >= row.expires_at ? "expired" : "active";
}

export async function listSessionTokens(
  { store, clock }: SessionTokenDeps,
  key: AuthenticatedKey,
  input: z.output<typeof listSessionTokensInput>,
): Promise<SessionTokenPage> {
  const now = clock.now();
  return keysetPage(
    input.limit,
    (fetchLimit) =>
      listSessionTokensOfCustomer(store, key, {
        externalUserId: input.externalUserId,
        activeAt: input.status === "active" ? now : null,
        before: input.cursor ?? null,
        limit: fetchLimit,
      }),
    (row) => ({
      tokenId: row.id,
      status: statusOf(row, now),
      customer: {
        externalUserId: row.external_user_id,
        externalOrganizationId: row.external_organization_id,
        email: row.email,
      },
      allowedOperations: parseOperations(row.allowed_operations),
      metadata: parseMetadata(row.metadata),
      createdAt: new Date(row.created_at),
      expiresAt: new Date(row.expires_at),
      revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    }),
  );
}

export async function revokeCustomerSessionTokens(
  { store, clock }: SessionTokenDeps,
  key: AuthenticatedKey,
  input: z.output<typeof revokeCustomerSessionTokensInput>,
): Promise<CustomerSessionTokensRevoked> {
  return store.transaction(async (trx) => {
    const now = clock.now();
    const target: BulkRevocation =
      input.externalUserId !== undefined
        ? { scope: key, externalUserId: input.externalUserId, activeAt: now }
        : { scope: key, externalOrganizationId: input.externalOrganizationId!, activeAt: now };
    const revokedCount = await revokeTokensInBulk(
      trx,
      target,
      { reason: "customer_revoked", action: "session_token.revoked_for_customer", actor: { type: "api_key", id: key.id } },
      now,
    );
    return { revokedCount, revokedAt: new Date(now) };
  });
}

function parseOperations(json: string | null): Operation[] | null {
  return json === null ? null : (JSON.parse(json) as Operation[]);
}

function parseMetadata(json: string | null): Metadata | null {
  return json === null ? null : (JSON.parse(json) as Metadata);
}
