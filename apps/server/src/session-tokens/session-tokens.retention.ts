import { purgeAuditEvents } from "../audit/audit-retention.js";
import { purgeIdempotencyRecords } from "../idempotency/idempotency.retention.js";
import { purgeFullRateLimitBuckets } from "../rate-limits/rate-limit-retention.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import type { Store } from "../store/store.js";
import { deleteSessionTokensExpiredBefore } from "./session-tokens.repository.js";

const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** The name the retention pass runs alone under (Store.runAlone). */
export const PURGE_CHORE = "retention-purge";

/** Tokens deleted per write transaction: a large purge never holds the write lock for long. */
export const TOKEN_PURGE_BATCH = 1_000;

export interface RetentionSettings {
  /** How long an expired token stays listable (TOKEN_RETENTION_DAYS). */
  tokenRetentionMs: number;
  /** How long an audit event stays once its subject is gone (AUDIT_RETENTION_DAYS). */
  auditRetentionMs: number;
}

/**
 * Deletes tokens that expired more than `retentionMs` ago (they stay listable until then), a batch
 * per write transaction; returns how many.
 */
export async function purgeExpiredSessionTokens(store: Store, clock: Clock, retentionMs: number): Promise<number> {
  const cutoff = clock.now() - retentionMs;
  let purged = 0;
  for (;;) {
    const deleted = await store.transaction((trx) => deleteSessionTokensExpiredBefore(trx, cutoff, TOKEN_PURGE_BATCH));
    purged += deleted;
    if (deleted < TOKEN_PURGE_BATCH) return purged;
    // Let requests waiting on this process's connection run between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * One retention pass: expired tokens past their retention first, then audit events past theirs
 * whose subject is gone (the tokens just purged among them). Audit events have their own, longer
 * retention and never go while their token, binding or key stands.
 */
export async function purgeExpired(
  store: Store,
  clock: Clock,
  settings: RetentionSettings,
): Promise<{ sessionTokens: number; auditEvents: number }> {
  const sessionTokens = await purgeExpiredSessionTokens(store, clock, settings.tokenRetentionMs);
  const auditEvents = await purgeAuditEvents(store, clock.now() - settings.auditRetentionMs);
  return { sessionTokens, auditEvents };
}

/** Purges now and then hourly; the timer never keeps the process alive. Returns a stop function. */
export function schedulePurge(
  deps: { store: Store; clock: Clock; logger: Logger },
  settings: RetentionSettings,
): () => void {
  const run = () => {
    // Several hosts on one database purge it once: a host finding another at it skips this hour.
    const purge = async () => ({
      ...(await purgeExpired(deps.store, deps.clock, settings)),
      idempotencyKeys: await purgeIdempotencyRecords(deps.store, deps.clock),
    });
    deps.store.runAlone(PURGE_CHORE, purge).then(
      (outcome) => {
        if (!outcome.ran) deps.logger.debug("another host is purging expired session tokens; skipped");
        else if (
          outcome.value.sessionTokens > 0 ||
          outcome.value.auditEvents > 0 ||
          outcome.value.idempotencyKeys > 0
        ) {
          deps.logger.info(
            outcome.value,
            "purged expired session tokens, audit events and idempotency keys past retention",
          );
        }
      },
      (error: unknown) => deps.logger.error({ err: error }, "purging expired session tokens failed"),
    );
    // The database rate limiter's idle buckets (none unless RATE_LIMIT_STORE=database).
    purgeFullRateLimitBuckets(deps.store, deps.clock).then(
      (rateLimitBuckets) => {
        if (rateLimitBuckets > 0) deps.logger.info({ rateLimitBuckets }, "purged idle rate-limit buckets");
      },
      (error: unknown) => deps.logger.error({ err: error }, "purging idle rate-limit buckets failed"),
    );
  };
  run();
  const timer = setInterval(run, PURGE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
