import type { Environment } from "@billingos/contracts";
import { sql } from "kysely";
import type { Scope } from "../shared/scope.js";
import { chunksOf } from "../store/chunks.js";
import { preparedInsert, preparedQuery, preparedSql, rowInsert } from "../store/prepared-query.js";
import type { Queryable } from "../store/queryable.js";
import type { RowInsert, Store } from "../store/store.js";
import type { NewSessionTokenRow, RevocationReason, SessionTokenRow } from "./session-tokens.table.js";

const SESSION_TOKEN_COLUMNS = [
  "id",
  "token_hash",
  "organization_id",
  "environment",
  "api_key_id",
  "external_user_id",
  "external_organization_id",
  "email",
  "allowed_operations",
  "metadata",
  "created_at",
  "expires_at",
  "revoked_at",
  "revocation_reason",
] as const satisfies readonly (keyof NewSessionTokenRow)[];

const insertRow = preparedInsert<NewSessionTokenRow & Record<string, unknown>>("session_tokens", SESSION_TOKEN_COLUMNS);

const selectCreationState = preparedQuery(
  (db: Queryable, keyId: string, organizationId: string, environment: Environment) =>
    db.kysely.selectNoFrom((eb) => [
      eb
        .selectFrom("api_keys")
        .select(eb.lit(1).as("active"))
        .where("id", "=", keyId)
        .where("revoked_at", "is", null)
        .as("key_active"),
      eb
        .selectFrom("customer_binding_counts")
        .select("unresolved_count")
        .where("organization_id", "=", organizationId)
        .where("environment", "=", environment)
        .as("unresolved_count"),
    ]),
);

/**
 * What a creation needs to know before it writes, in one read: whether its key is still unrevoked,
 * and the maintained number of customers of its scope still awaiting a bind.
 */
export async function readCreationState(
  db: Queryable,
  key: { id: string } & Scope,
): Promise<{ keyActive: boolean; unresolvedCount: number }> {
  const row = (await selectCreationState(db, key.id, key.organizationId, key.environment)).rows[0];
  return { keyActive: row?.key_active != null, unresolvedCount: Number(row?.unresolved_count ?? 0) };
}

const creationGuard = preparedSql(
  (db: Queryable, keyId: string, organizationId: string, environment: Environment, emailNormalized: string | null) =>
    db.kysely
      .selectFrom(
        db.kysely
          .selectNoFrom((eb) => [
            // FOR SHARE (PostgreSQL): the key's latest version, kept unrevoked until the token is stored.
            db
              .forShare(
                eb
                  .selectFrom("api_keys")
                  .select(eb.lit(1).as("active"))
                  .where("id", "=", keyId)
                  .where("revoked_at", "is", null),
              )
              .as("key_active"),
            eb
              .selectFrom("customer_binding_counts")
              .select("unresolved_count")
              .where("organization_id", "=", organizationId)
              .where("environment", "=", environment)
              .as("unresolved_count"),
            // An unbound customer with the creation's email: a bind may be due (an index probe; never
            // true without an email, as null equals nothing).
            eb
              .exists(
                eb
                  .selectFrom("imported_customers")
                  .select(eb.lit(1).as("one"))
                  .where("organization_id", "=", organizationId)
                  .where("environment", "=", environment)
                  .where("email_normalized", "=", emailNormalized)
                  .where("external_user_id", "is", null),
              )
              .as("bind_due"),
          ])
          .as("state"),
      )
      .select(["state.key_active", "state.unresolved_count"])
      .select(sql<boolean>`(state.key_active is not null and not state.bind_due)`.as("proceed")),
);

/**
 * A creation in one write when it needs no more (most do): the token and its audit event are stored
 * if the key is unrevoked (read at its latest version, and held so until they are stored: a
 * revocation's sweep then finds the token) and no bind is due (`emailNormalized` null, or no unbound
 * customer of the scope has it). Undefined when the store declines; stored false when the key is
 * revoked or a bind may be due, which the caller then does in a unit of its own.
 */
export async function storeTokenUnlessBindDue(
  store: Store,
  key: { id: string } & Scope,
  emailNormalized: string | null,
  token: NewSessionTokenRow,
  audit: RowInsert,
): Promise<{ keyActive: boolean; unresolvedCount: number; stored: boolean } | undefined> {
  const guard = creationGuard(store, key.id, key.organizationId, key.environment, emailNormalized);
  const tokenInsert = rowInsert("session_tokens", SESSION_TOKEN_COLUMNS, token);
  const outcome = await store.insertIf<{
    key_active: number | null;
    unresolved_count: number | null;
    proceed: unknown;
  }>({ guard, inserts: [tokenInsert, audit] });
  if (outcome === undefined) return undefined;
  return {
    keyActive: outcome.row.key_active != null,
    unresolvedCount: Number(outcome.row.unresolved_count ?? 0),
    stored: outcome.inserted,
  };
}

export async function insertSessionToken(db: Queryable, row: NewSessionTokenRow): Promise<void> {
  await insertRow(db, row);
}

const selectByHash = preparedQuery((db: Queryable, tokenHash: string) =>
  db.kysely
    .selectFrom("session_tokens")
    .innerJoin("api_keys", "api_keys.id", "session_tokens.api_key_id")
    .select([
      "session_tokens.id",
      "session_tokens.token_hash",
      "session_tokens.organization_id",
      "session_tokens.environment",
      "session_tokens.external_user_id",
      "session_tokens.external_organization_id",
      "session_tokens.email",
      "session_tokens.allowed_operations",
      "session_tokens.metadata",
      "session_tokens.expires_at",
      "session_tokens.revoked_at",
      "api_keys.revoked_at as key_revoked_at",
    ])
    .where("session_tokens.token_hash", "=", tokenHash),
);

/**
 * The verify hot path: one indexed point lookup, only the columns verify answers with, and the
 * revocation of the key that created the token (a primary-key probe), so that a token of a revoked
 * key is refused even if its own row escaped the revocation's sweep (as the race fixed by the
 * in-transaction key check left some in databases written before it).
 */
export async function findSessionTokenByHash(db: Queryable, tokenHash: string) {
  return (await selectByHash(db, tokenHash)).rows[0];
}

/** One token of this scope, by id or by hash: what revocation needs to know. */
export async function findSessionTokenInScope(
  db: Queryable,
  scope: Scope,
  match: { id: string } | { tokenHash: string },
) {
  let query = db.kysely
    .selectFrom("session_tokens")
    .select(["id", "external_user_id", "revoked_at"])
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment);
  query = "id" in match ? query.where("id", "=", match.id) : query.where("token_hash", "=", match.tokenHash);
  return query.executeTakeFirst();
}

/**
 * Revokes one unrevoked token of this scope, by id or by hash, in one statement; returns it, or
 * undefined when no such token is unrevoked (none, or revoked already: a token keeps its first
 * time and reason). Under READ COMMITTED a concurrent revocation committing first makes this
 * wait for it and then match nothing.
 */
export async function revokeSessionTokenInScope(
  db: Queryable,
  scope: Scope,
  match: { id: string } | { tokenHash: string },
  now: number,
  reason: RevocationReason,
): Promise<{ id: string; external_user_id: string } | undefined> {
  let query = db.kysely
    .updateTable("session_tokens")
    .set({ revoked_at: now, revocation_reason: reason })
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("revoked_at", "is", null);
  query = "id" in match ? query.where("id", "=", match.id) : query.where("token_hash", "=", match.tokenHash);
  return query.returning(["id", "external_user_id"]).executeTakeFirst();
}

/** Which tokens a bulk revocation selects: still active ones of a customer, or every unrevoked one of a key. */
export type BulkRevocation =
  | { scope: Scope; externalUserId: string; activeAt: number }
  | { scope: Scope; externalOrganizationId: string; activeAt: number }
  | { apiKeyId: string };

function selectBulk(db: Queryable, target: BulkRevocation) {
  let query = db.kysely.selectFrom("session_tokens").where("revoked_at", "is", null);
  if ("apiKeyId" in target) return query.where("api_key_id", "=", target.apiKeyId);
  query = query
    .where("organization_id", "=", target.scope.organizationId)
    .where("environment", "=", target.scope.environment)
    .where("expires_at", ">", target.activeAt);
  return "externalUserId" in target
    ? query.where("external_user_id", "=", target.externalUserId)
    : query.where("external_organization_id", "=", target.externalOrganizationId);
}

/** The tokens a bulk revocation would revoke (read inside the same write transaction as the revocation). */
export async function findTokensForBulkRevocation(db: Queryable, target: BulkRevocation) {
  return selectBulk(db, target).select(["id", "organization_id", "environment", "external_user_id"]).execute();
}

export async function markTokensRevokedInBulk(
  db: Queryable,
  ids: string[],
  now: number,
  reason: RevocationReason,
): Promise<void> {
  for (const chunk of chunksOf(ids)) {
    await db.kysely
      .updateTable("session_tokens")
      .set({ revoked_at: now, revocation_reason: reason })
      .where("id", "in", chunk)
      .where("revoked_at", "is", null)
      .execute();
  }
}

/** A page of a customer's tokens, newest first (ids sort by creation time). */
export async function listSessionTokensOfCustomer(
  db: Queryable,
  scope: Scope,
  query: { externalUserId: string; activeAt: number | null; before: string | null; limit: number },
): Promise<SessionTokenRow[]> {
  let select = db.kysely
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

/** Deletes at most `limit` tokens that expired before `cutoff` (soonest expired first); returns how many. */
export async function deleteSessionTokensExpiredBefore(db: Queryable, cutoff: number, limit: number): Promise<number> {
  const result = await db.kysely
    .deleteFrom("session_tokens")
    .where("id", "in", (eb) =>
      eb.selectFrom("session_tokens").select("id").where("expires_at", "<", cutoff).orderBy("expires_at").limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
