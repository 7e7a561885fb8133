import type { Environment } from "@billingos/contracts";
import { sql } from "kysely";
import type { Scope } from "../shared/scope.js";
import { preparedQuery } from "../store/prepared-query.js";
import type { Queryable } from "../store/queryable.js";
import type { IdempotencyKeyRow } from "./idempotency-keys.table.js";

const selectRecord = preparedQuery((db: Queryable, organizationId: string, environment: Environment, keyHash: string) =>
  db.kysely
    .selectFrom("idempotency_keys")
    .select(["request_hash", "created_at", "answer"])
    .where("organization_id", "=", organizationId)
    .where("environment", "=", environment)
    .where("key_hash", "=", keyHash),
);

// Built once (prepared-query.ts): every keyed mutation runs both, and Kysely would build and compile
// them, and SQLite's driver prepare them, on every call.
export async function findIdempotencyRecord(
  db: Queryable,
  scope: Scope,
  keyHash: string,
): Promise<Pick<IdempotencyKeyRow, "request_hash" | "created_at" | "answer"> | undefined> {
  const row = (await selectRecord(db, scope.organizationId, scope.environment, keyHash)).rows[0];
  // PostgreSQL's bigint may come back as a string.
  return row === undefined ? undefined : { ...row, created_at: Number(row.created_at) };
}

const upsertRecord = preparedQuery(
  (
    db: Queryable,
    organizationId: string,
    environment: Environment,
    keyHash: string,
    requestHash: string,
    createdAt: number,
    answer: string,
  ) =>
    db.kysely
      .insertInto("idempotency_keys")
      .values({
        organization_id: organizationId,
        environment,
        key_hash: keyHash,
        request_hash: requestHash,
        created_at: createdAt,
        answer,
      })
      .onConflict((oc) =>
        oc.columns(["organization_id", "environment", "key_hash"]).doUpdateSet((eb) => ({
          request_hash: eb.ref("excluded.request_hash"),
          created_at: eb.ref("excluded.created_at"),
          answer: eb.ref("excluded.answer"),
        })),
      ),
);

/**
 * Records an answer under its key; a record past its 24 hours that the purge has not yet reached
 * is replaced (the caller holds the key's lock, so nothing else writes this row meanwhile).
 */
export async function saveIdempotencyRecord(
  db: Queryable,
  scope: Scope,
  record: { keyHash: string; requestHash: string; createdAt: number; answer: string },
): Promise<void> {
  await upsertRecord(
    db,
    scope.organizationId,
    scope.environment,
    record.keyHash,
    record.requestHash,
    record.createdAt,
    record.answer,
  );
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
