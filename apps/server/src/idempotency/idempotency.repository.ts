import { sql } from "kysely";
import type { Scope } from "../shared/scope.js";
import type { Queryable } from "../store/queryable.js";
import type { IdempotencyKeyRow } from "./idempotency-keys.table.js";

export async function findIdempotencyRecord(
  db: Queryable,
  scope: Scope,
  keyHash: string,
): Promise<Pick<IdempotencyKeyRow, "request_hash" | "created_at" | "answer"> | undefined> {
  const row = await db.kysely
    .selectFrom("idempotency_keys")
    .select(["request_hash", "created_at", "answer"])
    .where("organization_id", "=", scope.organizationId)
    .where("environment", "=", scope.environment)
    .where("key_hash", "=", keyHash)
    .executeTakeFirst();
  // PostgreSQL's bigint comes back as a string.
  return row === undefined ? undefined : { ...row, created_at: Number(row.created_at) };
}

/**
 * Records an answer under its key; a record past its 24 hours that the purge has not yet reached
 * is replaced (the caller holds the key's lock, so nothing else writes this row meanwhile).
 */
export async function saveIdempotencyRecord(
  db: Queryable,
  scope: Scope,
  record: { keyHash: string; requestHash: string; createdAt: number; answer: string },
): Promise<void> {
  await db.kysely
    .insertInto("idempotency_keys")
    .values({
      organization_id: scope.organizationId,
      environment: scope.environment,
      key_hash: record.keyHash,
      request_hash: record.requestHash,
      created_at: record.createdAt,
      answer: record.answer,
    })
    .onConflict((oc) =>
      oc.columns(["organization_id", "environment", "key_hash"]).doUpdateSet({
        request_hash: record.requestHash,
        created_at: record.createdAt,
        answer: record.answer,
      }),
    )
    .execute();
}

/** Deletes up to `limit` records made before `cutoff`; returns how many. */
export async function deleteIdempotencyRecordsBefore(db: Queryable, cutoff: number, limit: number): Promise<number> {
  const result = await sql`
    delete from idempotency_keys
    where (organization_id, environment, key_hash) in (
      select organization_id, environment, key_hash from idempotency_keys
      where created_at < ${cutoff} order by created_at limit ${limit}
    )`.execute(db.kysely);
  return Number(result.numAffectedRows ?? 0);
}
