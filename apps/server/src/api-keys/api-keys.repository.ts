import { preparedQuery } from "../store/prepared-query.js";
import type { Queryable } from "../store/queryable.js";
import type { ApiKeyRow, NewApiKeyRow } from "./api-keys.table.js";

export async function insertApiKey(db: Queryable, row: NewApiKeyRow): Promise<void> {
  await db.kysely.insertInto("api_keys").values(row).execute();
}

const selectByHash = preparedQuery((db: Queryable, keyHash: string) =>
  db.kysely
    .selectFrom("api_keys")
    .select(["id", "organization_id", "environment", "key_hash", "revoked_at"])
    .where("key_hash", "=", keyHash),
);

/** Every merchant-API call looks its key up: built once, re-bound per call. */
export async function findApiKeyByHash(
  db: Queryable,
  keyHash: string,
): Promise<Pick<ApiKeyRow, "id" | "organization_id" | "environment" | "key_hash" | "revoked_at"> | undefined> {
  return (await selectByHash(db, keyHash)).rows[0];
}

const selectRevokedAt = preparedQuery((db: Queryable, id: string) =>
  db.kysely.selectFrom("api_keys").select("revoked_at").where("id", "=", id),
);

/**
 * Whether a key exists and is unrevoked, read on the connection `db` stands for: inside a write
 * transaction, the state no other writer can change before it commits. A cached point read.
 */
export async function isApiKeyActive(db: Queryable, id: string): Promise<boolean> {
  const row = (await selectRevokedAt(db, id)).rows[0];
  return row !== undefined && row.revoked_at === null;
}

export async function findApiKeyById(db: Queryable, id: string): Promise<ApiKeyRow | undefined> {
  return db.kysely.selectFrom("api_keys").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listApiKeysWithOrganization(db: Queryable) {
  return db.kysely
    .selectFrom("api_keys")
    .innerJoin("organizations", "organizations.id", "api_keys.organization_id")
    .select([
      "api_keys.id",
      "api_keys.environment",
      "api_keys.key_hint",
      "api_keys.created_at",
      "api_keys.revoked_at",
      "organizations.name as organization_name",
    ])
    .orderBy("organizations.name")
    .orderBy("api_keys.id")
    .execute();
}

/** Sets revoked_at once; a second call leaves the first time in place. */
export async function markApiKeyRevoked(db: Queryable, id: string, now: number): Promise<void> {
  await db.kysely
    .updateTable("api_keys")
    .set({ revoked_at: now })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .execute();
}
