import type { Kysely, QueryResult } from "kysely";
import type { DatabaseSchema } from "./schema.js";

/** How a transaction holds a lock key (Queryable.lock). */
export type LockMode = "exclusive" | "shared";

/** A Kysely select that can take FOR SHARE. */
export interface SharedLockable<Query> {
  forShare(): Query;
}

/** The engines a store can run on. */
export type Engine = "sqlite" | "postgres";

/** Kysely over this service's tables: the query builder every repository uses. */
export type SchemaKysely = Kysely<DatabaseSchema>;

/**
 * What every repository function takes first: the store itself (outside a transaction) or the
 * handle of one transaction. It says on which engine it runs, offers Kysely for ordinary queries,
 * and runs the hot statements (built once by prepared-query.ts) the engine's fastest way.
 */
export interface Queryable {
  readonly engine: Engine;
  /** Kysely bound to this scope: the whole database, or this transaction's connection. */
  readonly kysely: SchemaKysely;
  /**
   * Runs SQL compiled once for this engine. `isSelect` lets SQLite send reads outside a transaction
   * to its reader connection; writes outside a transaction queue behind the writer like any query.
   */
  run<Row>(sql: string, parameters: readonly unknown[], isSelect: boolean): Promise<QueryResult<Row>>;
  /**
   * Holds `key` until this transaction ends: the way a read-then-write that must not race says so.
   * An exclusive hold waits for, and makes wait, every other hold of the key; shared holds wait
   * only for an exclusive one. PostgreSQL takes a transaction-scoped advisory lock; SQLite's write
   * transactions are serialized already, so there it costs nothing. Outside a transaction it is
   * an error to call.
   */
  lock(key: string, mode?: LockMode): Promise<void>;
  /**
   * Says that this scope changed rows Store.cachedRead may hold (a key's revocation): every host
   * reads them afresh once the change commits, and this one before its caller hears back. SQLite
   * has nothing to do (its cache sees every commit through data_version); PostgreSQL notifies the
   * other hosts' listeners (NOTIFY is delivered at commit).
   */
  invalidateCachedReads(): Promise<void>;
  /**
   * `query` reading its rows at their latest committed version and keeping them from being updated
   * until this statement's transaction ends: FOR SHARE on PostgreSQL (a concurrent update is waited
   * for, then the row re-checked). SQLite serializes writers, so a read inside a write unit is current
   * already and stays so: the query as it is.
   */
  forShare<Query extends SharedLockable<Query>>(query: Query): Query;
}
