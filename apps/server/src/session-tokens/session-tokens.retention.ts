import { deleteAuditEventsBefore } from "../audit/audit.repository.js";
import type { Database } from "../db/database.js";
import { writeTransaction } from "../db/write-transaction.js";
import type { Clock } from "../shared/clock.js";
import type { Logger } from "../shared/logger.js";
import { deleteSessionTokensExpiredBefore } from "./session-tokens.repository.js";

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** Deletes tokens that expired more than `retentionMs` ago (they stay listable until then), and audit events as old. */
export async function purgeExpiredSessionTokens(db: Database, clock: Clock, retentionMs: number): Promise<number> {
  const cutoff = clock.now() - retentionMs;
  // A write transaction waits for the lock on timers while another process holds it (lock-wait.ts);
  // a bare statement would fail at once, the writer having no busy timeout.
  return writeTransaction(db, async (trx) => {
    await deleteAuditEventsBefore(trx, cutoff);
    return deleteSessionTokensExpiredBefore(trx, cutoff);
  });
}

/** Purges now and then hourly; the timer never keeps the process alive. Returns a stop function. */
export function schedulePurge(deps: { db: Database; clock: Clock; logger: Logger }, retentionMs: number): () => void {
  const run = () => {
    purgeExpiredSessionTokens(deps.db, deps.clock, retentionMs).then(
      (purged) => {
        if (purged > 0) deps.logger.info({ purged }, "purged expired session tokens past retention");
      },
      (error: unknown) => deps.logger.error({ err: error }, "purging expired session tokens failed"),
    );
  };
  run();
  const timer = setInterval(run, PURGE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
