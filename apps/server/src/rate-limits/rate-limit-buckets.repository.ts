import { type RawBuilder, sql } from "kysely";
import { preparedQuery } from "../store/prepared-query.js";
import type { Queryable } from "../store/queryable.js";
import { REFILL_SLACK } from "./token-bucket.js";

// Parameters are cast where they are used: PostgreSQL infers a parameter's type from its first
// use, and each use is a parameter of its own. The same SQL runs on SQLite (CAST to these names
// gives REAL and INTEGER).
const real = (value: unknown): RawBuilder<number> => sql`cast(${value} as double precision)`;
const ms = (value: unknown): RawBuilder<number> => sql`cast(${value} as bigint)`;

const TOKENS = sql.ref("rate_limit_buckets.tokens");
const UPDATED_AT = sql.ref("rate_limit_buckets.updated_at");

/**
 * One call's take from a bucket, as ONE atomic statement: the row is created full less the cost,
 * or refilled for the time since it was last touched (token-bucket.ts's `refilled`), then the cost
 * is taken if the bucket holds what the call needs. Two processes taking from one bucket at once
 * are serialized by the row (PostgreSQL's upsert locks it; SQLite's write lock), so the limit is
 * exact across every process and host on the database. Returns the units left and whether it
 * refused (a refusal takes nothing but stores the refill).
 */
export const takeFromBucket = preparedQuery(
  (
    db: Queryable,
    bucket: string,
    now: number,
    cost: number,
    needed: number,
    perMinute: number,
    refillPerMs: number,
  ) => {
    const later = sql`case when ${ms(now)} > ${UPDATED_AT} then ${ms(now)} else ${UPDATED_AT} end`;
    const elapsed = sql`case when ${ms(now)} > ${UPDATED_AT} then ${ms(now)} - ${UPDATED_AT} else 0 end`;
    const gained = sql`${TOKENS} + ${elapsed} * ${real(refillPerMs)}`;
    const held = sql`case when ${gained} > ${real(perMinute)} then ${real(perMinute)} else ${gained} end`;
    const enough = sql`${held} + ${real(REFILL_SLACK)} >= ${real(needed)}`;
    const left = sql`case when ${enough} then ${held} - ${real(cost)} else ${held} end`;
    const fullAt = (from: RawBuilder<unknown>, tokens: RawBuilder<unknown>) =>
      sql`${from} + cast((${real(perMinute)} - ${tokens}) / ${real(refillPerMs)} as bigint) + 1`;
    const query = sql<{ tokens: number; refused: number }>`
      insert into rate_limit_buckets (bucket, tokens, updated_at, full_at, refused)
      values (${bucket}, ${real(perMinute)} - ${real(cost)}, ${ms(now)}, ${fullAt(ms(now), sql`(${real(perMinute)} - ${real(cost)})`)}, 0)
      on conflict (bucket) do update set
        tokens = ${left},
        updated_at = ${later},
        full_at = ${fullAt(later, left)},
        refused = case when ${enough} then 0 else 1 end
      returning tokens, refused`;
    return { compile: () => query.compile(db.kysely) };
  },
);

/** A bucket as stored, for a check (which takes nothing, so reads only). */
export const readBucket = preparedQuery((db: Queryable, bucket: string) =>
  db.kysely.selectFrom("rate_limit_buckets").select(["tokens", "updated_at"]).where("bucket", "=", bucket),
);

/**
 * Deletes up to `limit` buckets that are full again by `now` (no row is the same as a full
 * bucket); returns how many. A take racing the delete either finds the row gone and starts full,
 * or updates it first, and then it no longer matches (PostgreSQL checks the condition again on
 * the row it waited for).
 */
export async function deleteFullBuckets(db: Queryable, now: number, limit: number): Promise<number> {
  const result = await db.kysely
    .deleteFrom("rate_limit_buckets")
    .where("full_at", "<=", now)
    .where("bucket", "in", (eb) =>
      eb.selectFrom("rate_limit_buckets").select("bucket").where("full_at", "<=", now).limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
