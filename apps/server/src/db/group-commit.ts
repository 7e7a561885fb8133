import { CompiledQuery } from "kysely";
import type { Database } from "./database.js";
import { executeInTransaction, writeTransaction } from "./write-transaction.js";

/** Most units of work one commit carries; the rest wait for the next. */
const MAX_GROUP = 64;

const SAVEPOINT = CompiledQuery.raw("savepoint unit");
const RELEASE = CompiledQuery.raw("release unit");
const ROLLBACK_TO = CompiledQuery.raw("rollback to unit");

interface Unit {
  work: (trx: Database) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: units of write work that arrive together (concurrent token creations or
 * revocations) run one after the other in ONE write transaction, each in its own savepoint, and are
 * answered after its COMMIT.
 * A commit writes the touched index pages to the WAL once for the whole group instead of once per
 * unit (measured here: a single-row write transaction ~73 µs, the same rows batched ~10 µs each).
 * Each unit still sees every earlier unit's effects, in arrival order, exactly as if they had run one
 * by one; a unit that throws is rolled back to its savepoint alone; nothing is acknowledged before
 * it is durable.
 */
export class GroupCommit {
  readonly #queue: Unit[] = [];
  #scheduled = false;

  constructor(private readonly db: Database) {}

  run<T>(work: (trx: Database) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // One turn of the event loop lets the requests already read off the sockets join the group.
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    const units = this.#queue.splice(0, MAX_GROUP);
    if (this.#queue.length > 0) setImmediate(() => void this.#flush());
    else this.#scheduled = false;

    let outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await writeTransaction(this.db, async (trx) => {
        outcomes = [];
        for (const unit of units) {
          await executeInTransaction(trx, SAVEPOINT);
          try {
            const value = await unit.work(trx);
            await executeInTransaction(trx, RELEASE);
            outcomes.push({ ok: true, value });
          } catch (error) {
            await executeInTransaction(trx, ROLLBACK_TO);
            await executeInTransaction(trx, RELEASE);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const unit of units) unit.reject(error);
      return;
    }
    units.forEach((unit, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }
}

const groups = new WeakMap<Database, GroupCommit>();

/** The group commit of a database (one per database handle). */
export function groupCommitOf(db: Database): GroupCommit {
  let group = groups.get(db);
  if (group === undefined) {
    group = new GroupCommit(db);
    groups.set(db, group);
  }
  return group;
}
