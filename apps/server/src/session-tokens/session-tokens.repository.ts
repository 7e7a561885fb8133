import type { Database } from "../db/database.js";
import type { Scope } from "../shared/scope.js";
import type { NewSessionTokenRow, RevocationReason, SessionTokenRow } from "./session-tokens.table.js";

export async function insertSessionToken(db: Database, row: NewSessionTokenRow): Promise<void> {
  await db.insertInto("session_tokens").values(row).execute();
}

/** The verify hot path: one indexed point lookup, only the columns verify answers with. */
export async function findSessionTokenByHash(db: Database, tokenHash: string) {
  return db
    .selectFrom("session_tokens")
    .select([
      "id",
      "token_hash",
      "organization_id",
      "environment",
      "external_user_id",
      "external_organization_id",
      "email",
      "allowed_operations",
      "metadata",
      "expires_at",
      "revoked_at",
    ])
    .where("token_hash", "=", tokenHash)
    .executeTakeFirst();
}

/**
 * Revokes one token in scope and returns its revocation time: the new one, or the first one if it
 * was already revoked (COALESCE keeps it). Undefined when no such token is in scope.
 */
export async function revokeSessionTokenWhere(
  db: Database,
  scope: Scope,
  match: { id: string } | { tokenHash: string },
  now: number,
  reason: RevocationReason = "revoked",
): Promise<{ id: string; revoked_at: number | null } | undefined> {
  let query = db
    .updateTable("session_tokens")
    .set((eb) => ({
      revoked_at: eb.fn.coalesce("revoked_at", eb.val(now)),
      revocation_reason: eb.fn.coalesce("revocation_reason", eb.val(reason)),
    }))
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment);
  query = "id" in match ? query.where("id", "=", match.id) : query.where("token_hash", "=", match.tokenHash);
  return query.returning(["id", "revoked_at"]).executeTakeFirst();
}

/** Revokes the still-active tokens of a customer; returns how many. */
export async function revokeActiveSessionTokensOfCustomer(
  db: Database,
  scope: Scope,
  customer: { externalUserId: string } | { externalOrganizationId: string },
  now: number,
): Promise<number> {
  let query = db
    .updateTable("session_tokens")
    .set({ revoked_at: now, revocation_reason: "customer_revoked" })
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now);
  query =
    "externalUserId" in customer
      ? query.where("external_user_id", "=", customer.externalUserId)
      : query.where("external_organization_id", "=", customer.externalOrganizationId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function revokeSessionTokensOfApiKey(db: Database, apiKeyId: string, now: number): Promise<number> {
  const result = await db
    .updateTable("session_tokens")
    .set({ revoked_at: now, revocation_reason: "key_revoked" })
    .where("api_key_id", "=", apiKeyId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A page of a customer's tokens, newest first (ids sort by creation time). */
export async function listSessionTokensOfCustomer(
  db: Database,
  scope: Scope,
  query: { externalUserId: string; activeAt: number | null; before: string | null; limit: number },
): Promise<SessionTokenRow[]> {
  let select = db
    .selectFrom("session_tokens")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("external_user_id", "=", query.externalUserId);
  if (query.activeAt !== null) {
    select = select.where("revoked_at", "is", null).where("expires_at", ">", query.activeAt);
  }
  if (query.before !== null) select = select.where("id", "<", query.before);
  return select.orderBy("id", "desc").limit(query.limit).execute();
}

/** Deletes tokens that expired before `cutoff`; returns how many. */
export async function deleteSessionTokensExpiredBefore(db: Database, cutoff: number): Promise<number> {
  const result = await db.deleteFrom("session_tokens").where("expires_at", "<", cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}
