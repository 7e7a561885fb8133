import { ENVIRONMENTS, type Environment, environmentOfPrefix, formatToken, parseToken } from "@billingos/contracts";
import { recordAuditEvent } from "../audit/audit.repository.js";
import {
  createOrganization,
  findOrCreateOrganization,
  resolveOrganization,
  UnknownOrganizationError,
} from "../organizations/organizations.service.js";
import type { OrganizationRow } from "../organizations/organizations.table.js";
import { revokeTokensInBulk } from "../session-tokens/session-tokens.revoke.js";
import { bearerCredential } from "../shared/bearer.js";
import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import { newId } from "../shared/ids.js";
import { digestSecret, hashSecret, randomSecretBody, storedDigestMatches } from "../shared/secrets.js";
import type { Queryable } from "../store/queryable.js";
import type { Store } from "../store/store.js";
import { apiKeyLockKey, KEY_REFUSED } from "./api-key-still-active.js";
import {
  findApiKeyByHash,
  findApiKeyById,
  insertApiKey,
  listApiKeysWithOrganization,
  markApiKeyRevoked,
} from "./api-keys.repository.js";
import type { AuthenticatedKey } from "./authenticated-key.js";

export interface CreatedApiKey {
  id: string;
  organizationId: string;
  organizationName: string;
  environment: Environment;
  /** The only time the key exists in the clear. */
  secretKey: string;
}

export async function createApiKey(
  store: Store,
  clock: Clock,
  input: { organizationName: string; environment: Environment },
): Promise<CreatedApiKey> {
  return store.transaction((trx) => insertNewApiKey(trx, clock, input));
}

/**
 * The operators' way (admin CLI): a key for an existing organization, named by id or exact name
 * (organizations.service.ts `resolveOrganization`). With `createOrganization`, an organization of
 * that name is created first when none exists; a name differing only in case or spaces from an
 * existing one is refused either way.
 */
export async function createApiKeyForOrganization(
  store: Store,
  clock: Clock,
  input: { organization: string; environment: Environment; createOrganization?: boolean },
): Promise<CreatedApiKey & { organizationCreated: boolean }> {
  return store.transaction(async (trx) => {
    let organization: OrganizationRow;
    let organizationCreated = false;
    try {
      organization = await resolveOrganization(trx, input.organization);
    } catch (error) {
      // Only a name nobody has taken is created; an id, or a near miss of an existing name, is not.
      const creatable =
        error instanceof UnknownOrganizationError &&
        error.similar === undefined &&
        !input.organization.trim().startsWith("org_");
      if (!(input.createOrganization && creatable)) throw error;
      organization = await createOrganization(trx, clock, input.organization);
      organizationCreated = true;
    }
    return { ...(await insertKeyFor(trx, clock, organization, input.environment)), organizationCreated };
  });
}

/** Creates a key (and its organization if new) inside the caller's write transaction. */
export async function insertNewApiKey(
  trx: Queryable,
  clock: Clock,
  input: { organizationName: string; environment: Environment },
): Promise<CreatedApiKey> {
  const organization = await findOrCreateOrganization(trx, clock, input.organizationName);
  return insertKeyFor(trx, clock, organization, input.environment);
}

async function insertKeyFor(
  trx: Queryable,
  clock: Clock,
  organization: OrganizationRow,
  environment: Environment,
): Promise<CreatedApiKey> {
  const input = { environment };
  const secretKey = formatToken("secretKey", input.environment, randomSecretBody());
  const id = newId("key", clock.now());
  await insertApiKey(trx, {
    id,
    organization_id: organization.id,
    environment: input.environment,
    key_hash: hashSecret(secretKey),
    key_hint: secretKey.slice(-4),
    created_at: clock.now(),
    revoked_at: null,
  });
  await recordAuditEvent(
    trx,
    { organizationId: organization.id, environment: input.environment },
    { action: "api_key.created", actor: { type: "operator", id: null }, subjectId: id },
    clock.now(),
  );
  return {
    id,
    organizationId: organization.id,
    organizationName: organization.name,
    environment: input.environment,
    secretKey,
  };
}

/** Why a credential is refused, worded for the developer who sent it. */
function refusalFor(credential: string): string {
  if (/^pk_(test|live)_/.test(credential)) {
    return "Publishable keys cannot call the merchant API; use a secret key (sk_test_… or sk_live_…)";
  }
  if (environmentOfPrefix(credential, "sessionToken") !== null) {
    return "Session tokens cannot call the merchant API; use a secret key (sk_test_… or sk_live_…)";
  }
  if (environmentOfPrefix(credential, "secretKey") !== null) {
    return "Malformed secret key: it fails its checksum (was it copied in full?)";
  }
  return "Malformed secret key: expected sk_test_… or sk_live_…";
}

/** Checks `Authorization: Bearer sk_…` and returns the key it names, or throws UNAUTHORIZED. */
export async function authenticateSecretKey(
  store: Store,
  authorization: string | undefined,
  environments: readonly Environment[] = ENVIRONMENTS,
): Promise<AuthenticatedKey> {
  if (!authorization) {
    throw new DomainError("UNAUTHORIZED", "Missing secret key: send the header `Authorization: Bearer sk_test_…`");
  }
  const credential = bearerCredential(authorization);
  if (credential === undefined) {
    throw new DomainError("UNAUTHORIZED", "The Authorization header must be `Bearer sk_test_…` or `Bearer sk_live_…`");
  }
  const parsed = parseToken(credential, "secretKey");
  if (parsed === null) throw new DomainError("UNAUTHORIZED", refusalFor(credential));
  if (!environments.includes(parsed.environment)) {
    throw new DomainError(
      "UNAUTHORIZED",
      `This server serves the ${environments.join(" and ")} environment only; send ${parsed.environment} keys to the ${parsed.environment === "live" ? "production" : "sandbox"} URL`,
    );
  }

  const digest = digestSecret(credential);
  const key = await store.cachedRead(digest.hex, (db) => findApiKeyByHash(db, digest.hex));
  if (key === undefined || !storedDigestMatches(key.key_hash, digest) || key.revoked_at !== null) {
    throw new DomainError("UNAUTHORIZED", KEY_REFUSED);
  }
  return { id: key.id, organizationId: key.organization_id, environment: key.environment };
}

export async function listApiKeys(store: Store) {
  const rows = await listApiKeysWithOrganization(store);
  return rows.map((row) => ({
    id: row.id,
    organization: row.organization_name,
    environment: row.environment,
    key: `sk_${row.environment}_…${row.key_hint}`,
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  }));
}

/**
 * Revokes a key and, in the same transaction, every token it created: a leaked key must not
 * leave live sessions behind. Idempotent: the first revocation time stands.
 */
export async function revokeApiKey(
  store: Store,
  clock: Clock,
  id: string,
): Promise<{ id: string; revokedAt: Date; revokedSessionTokens: number }> {
  return store.transaction(async (trx) => {
    // Waits for the writes made with this key that are under way, and keeps new ones waiting until
    // this commits (api-key-still-active.ts): none can store a token the sweep below would miss.
    await trx.lock(apiKeyLockKey(id));
    const now = clock.now();
    const key = await findApiKeyById(trx, id);
    if (key === undefined) throw new DomainError("NOT_FOUND", `No API key ${id}`);
    if (key.revoked_at !== null) return { id, revokedAt: new Date(key.revoked_at), revokedSessionTokens: 0 };
    await markApiKeyRevoked(trx, id, now);
    // Every host's key cache forgets the key's row once this commits (on PostgreSQL, LISTEN/NOTIFY).
    await trx.invalidateCachedReads();
    const revokedSessionTokens = await revokeTokensInBulk(
      trx,
      { apiKeyId: id },
      {
        reason: "key_revoked",
        action: "session_token.revoked_by_key_revocation",
        actor: { type: "operator", id: null },
      },
      now,
    );
    await recordAuditEvent(
      trx,
      { organizationId: key.organization_id, environment: key.environment },
      {
        action: "api_key.revoked",
        actor: { type: "operator", id: null },
        subjectId: id,
        details: { revokedSessionTokens },
      },
      now,
    );
    return { id, revokedAt: new Date(now), revokedSessionTokens };
  });
}
