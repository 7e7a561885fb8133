import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import type { Scope } from "../shared/scope.js";
import type { Queryable } from "../store/queryable.js";
import type { Store, TransactionOptions } from "../store/store.js";
import { findIdempotencyRecord, saveIdempotencyRecord } from "./idempotency.repository.js";
import { idempotencyKeyHash, openAnswer, sealAnswer } from "./idempotency-answer.js";
import { IDEMPOTENCY_WINDOW_MS } from "./idempotency-key.js";

export interface IdempotentRequest {
  scope: Scope;
  /** The Idempotency-Key as sent (checked). */
  key: string;
  /** requestHash(path, input): what a retry must repeat. */
  requestHash: string;
}

/** The lock one key's units hold: the second of two requests with one key waits for the first. */
function idempotencyLockKey(scope: Scope, keyHash: string): string {
  return `idempotency:${scope.organizationId}:${scope.environment}:${keyHash}`;
}

/**
 * The store a mutation sent with an Idempotency-Key works on. Its one unit of work (every merchant
 * mutation is one transaction) first takes the key's lock and looks the key up:
 * - answered within 24 hours for the same request: the unit returns that answer and does nothing;
 * - answered for another request: CONFLICT, nothing done;
 * - otherwise the work runs, and its result is recorded in the same transaction: work can never
 *   commit without its record, nor a record without its work. A unit that throws or rolls back
 *   (an error, a dry run) records nothing, so a retry runs it again.
 * Two requests with one key at once: the second waits for the first's lock (PostgreSQL's advisory
 * lock; SQLite's write transactions are serialized), then finds its record and replays it.
 * Everything else passes through to `store`.
 */
export function idempotentStore(store: Store, clock: Clock, request: IdempotentRequest): Store {
  const keyHash = idempotencyKeyHash(request.key);
  let unitsStarted = 0;

  function recorded<T>(work: (trx: Queryable) => Promise<T>): (trx: Queryable) => Promise<T> {
    // Each unit is one request's whole work: a second one could not be recorded with the first.
    if (++unitsStarted > 1) throw new Error("A mutation sent with an Idempotency-Key ran more than one unit of work");
    return async (trx) => {
      await trx.lock(idempotencyLockKey(request.scope, keyHash), "exclusive");
      const now = clock.now();
      const found = await findIdempotencyRecord(trx, request.scope, keyHash);
      if (found !== undefined && found.created_at > now - IDEMPOTENCY_WINDOW_MS) {
        if (found.request_hash !== request.requestHash) {
          throw new DomainError(
            "CONFLICT",
            "This Idempotency-Key was already used for a different request (another procedure or other input) in the last 24 hours; send a new key for a new request",
          );
        }
        return openAnswer(found.answer, request.key, request.scope) as T;
      }
      const result = await work(trx);
      await saveIdempotencyRecord(trx, request.scope, {
        keyHash,
        requestHash: request.requestHash,
        createdAt: now,
        answer: sealAnswer(result, request.key, request.scope),
      });
      return result;
    };
  }

  return {
    get engine() {
      return store.engine;
    },
    get kysely() {
      return store.kysely;
    },
    run: (sql, parameters, isSelect) => store.run(sql, parameters, isSelect),
    lock: (key, mode) => store.lock(key, mode),
    invalidateCachedReads: () => store.invalidateCachedReads(),
    forShare: (query) => store.forShare(query),
    transaction: <T>(work: (trx: Queryable) => Promise<T>, options?: TransactionOptions) =>
      store.transaction(recorded(work), options),
    groupedTransaction: <T>(work: (trx: Queryable) => Promise<T>, options?: TransactionOptions) =>
      store.groupedTransaction(recorded(work), options),
    singleStatementWrite: (write) => store.singleStatementWrite(write),
    // Declined: the caller's unit runs instead, and the answer is recorded in it.
    insertIf: () => Promise.resolve(undefined),
    cachedRead: (cacheKey, load) => store.cachedRead(cacheKey, load),
    runAlone: (name, work) => store.runAlone(name, work),
    retryLaterFor: (error) => store.retryLaterFor(error),
    migrate: () => store.migrate(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
