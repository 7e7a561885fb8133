import {
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
import type { AuthenticatedKey } from "../api-keys/api-keys.service.js";
import { bindCustomerByEmail } from "../customers/lazy-binding.js";
import { readUnresolvedCount } from "../customers/imported-customers.repository.js";
import type { Database } from "../db/database.js";
import { writeTransaction } from "../db/write-transaction.js";
import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import { newId } from "../shared/ids.js";
import { digestsEqual, hashSecret, randomSecretBody } from "../shared/secrets.js";
import {
  findSessionTokenByHash,
  insertSessionToken,
  listSessionTokensOfCustomer,
  revokeActiveSessionTokensOfCustomer,
  revokeSessionTokenWhere,
} from "./session-tokens.repository.js";
import type { SessionTokenRow } from "./session-tokens.table.js";

export interface SessionTokenDeps {
  db: Database;
  clock: Clock;
}

/**
 * Stores a new token and, in the same write transaction, binds an imported customer by email
 * (SPEC §5) and reads the maintained count of customers still awaiting a bind.
 */
export async function createSessionToken(
  { db, clock }: SessionTokenDeps,
  key: AuthenticatedKey,
  input: z.output<typeof createSessionTokenInput>,
): Promise<SessionTokenCreated> {
  const sessionToken = formatToken("sessionToken", key.environment, randomSecretBody());
  const tokenHash = hashSecret(sessionToken);
  return writeTransaction(db, async (trx) => {
    const now = clock.now();
    const tokenId = newId("tok", now);
    const expiresAt = now + (input.expiresIn ?? DEFAULT_EXPIRES_IN) * 1000;
    await bindCustomerByEmail(trx, key, input, now);
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
  { db, clock }: SessionTokenDeps,
  sessionToken: string,
  scope: { environments: readonly Environment[]; organizationId?: string },
  operation?: Operation,
): Promise<SessionTokenCheck> {
  const parsed = parseToken(sessionToken, "sessionToken");
  if (parsed === null) return { ok: false, reason: "malformed" };
  if (!scope.environments.includes(parsed.environment)) return { ok: false, reason: "wrong_environment" };

  const tokenHash = hashSecret(sessionToken);
  const row = await findSessionTokenByHash(db, tokenHash);
  if (
    row === undefined ||
    (scope.organizationId !== undefined && row.organization_id !== scope.organizationId) ||
    !digestsEqual(row.token_hash, tokenHash)
  ) {
    return { ok: false, reason: "not_found" };
  }
  if (row.revoked_at !== null) return { ok: false, reason: "revoked" };
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
  const { id: tokenId, organizationId: _organizationId, ...token } = check.token;
  return { valid: true, tokenId, ...token };
}

export async function revokeSessionToken(
  { db, clock }: SessionTokenDeps,
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
  const row = await revokeSessionTokenWhere(db, key, match, clock.now());
  if (row === undefined || row.revoked_at === null) {
    const what = "id" in match ? `session token ${match.id}` : "such session token";
    throw new DomainError("NOT_FOUND", `No ${what} in this organization's ${key.environment} environment`);
  }
  return { tokenId: row.id, revokedAt: new Date(row.revoked_at) };
}

/** The holder of a token revokes it (the browser's sign-out). */
export async function signOutSessionToken(
  { db, clock }: SessionTokenDeps,
  token: ActiveSessionToken,
): Promise<SessionTokenRevoked> {
  const row = await revokeSessionTokenWhere(db, token, { id: token.id }, clock.now(), "signed_out");
  if (row === undefined || row.revoked_at === null) throw new DomainError("NOT_FOUND", "No such session token");
  return { tokenId: row.id, revokedAt: new Date(row.revoked_at) };
}

function statusOf(row: SessionTokenRow, now: number): SessionTokenStatus {
  if (row.revoked_at !== null) return "revoked";
  return now >= row.expires_at ? "expired" : "active";
}

export async function listSessionTokens(
  { db, clock }: SessionTokenDeps,
  key: AuthenticatedKey,
  input: z.output<typeof listSessionTokensInput>,
): Promise<SessionTokenPage> {
  const now = clock.now();
  const limit = input.limit ?? 20;
  // One row more than asked tells whether there is a next page without a count query.
  const rows = await listSessionTokensOfCustomer(db, key, {
    externalUserId: input.externalUserId,
    activeAt: input.status === "active" ? now : null,
    before: input.cursor ?? null,
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  return {
    data: page.map((row) => ({
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
    })),
    nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
  };
}

export async function revokeCustomerSessionTokens(
  { db, clock }: SessionTokenDeps,
  key: AuthenticatedKey,
  input: z.output<typeof revokeCustomerSessionTokensInput>,
): Promise<CustomerSessionTokensRevoked> {
  const now = clock.now();
  const customer =
    input.externalUserId !== undefined
      ? { externalUserId: input.externalUserId }
      : { externalOrganizationId: input.externalOrganizationId! };
  const revokedCount = await revokeActiveSessionTokensOfCustomer(db, key, customer, now);
  return { revokedCount, revokedAt: new Date(now) };
}

function parseOperations(json: string | null): Operation[] | null {
  return json === null ? null : (JSON.parse(json) as Operation[]);
}

function parseMetadata(json: string | null): Metadata | null {
  return json === null ? null : (JSON.parse(json) as Metadata);
}
