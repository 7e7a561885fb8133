import { setTimeout as sleep } from "node:timers/promises";
import { RetryLaterError } from "../../shared/domain-error.js";

/**
 * How long, in all, a write waits for SQLite's write lock while another connection (another
 * process: a second server, the admin CLI, a backup) holds it, before it is refused.
 */
export const DEFAULT_LOCK_WAIT_MS = 5_000;

/** First pause after a busy lock, and the longest: short at first (most holds are brief), never a spin. */
const FIRST_PAUSE_MS = 2;
const LONGEST_PAUSE_MS = 100;

export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_BUSY_SNAPSHOT" || code === "SQLITE_LOCKED";
}

/** The write lock stayed busy for the whole wait: a 503 with Retry-After, never a 500 nor a hang. */
export class WriteLockBusyError extends RetryLaterError {
  constructor(waitedMs: number) {
    super(
      "SERVICE_UNAVAILABLE",
      `The database is busy: another process has held its write lock for ${Math.round(waitedMs)} ms; nothing was written, retry in 1 s`,
      1,
    );
  }
}

/**
 * A busy or locked database met outside the write-lock wait (a read during another process's WAL
 * recovery, after it crashed): the caller gets a 503 with Retry-After, as for a write that waited
 * too long, never a 500. Undefined for anything else.
 */
export function retryLaterForBusy(error: unknown): RetryLaterError | undefined {
  if (!isBusy(error)) return undefined;
  return new RetryLaterError("SERVICE_UNAVAILABLE", "The database is busy (another process holds it); retry in 1 s", 1);
}

/**
 * Runs `attempt` again while it fails on a busy lock, pausing between tries on a timer (backoff with
 * jitter) rather than in SQLite's busy handler: better-sqlite3 is synchronous, so a busy timeout
 * would sleep inside C on the event loop and freeze every other request of this process (health
 * checks and verifications included) for as long as the other process holds the lock. The writer
 * connection therefore has `busy_timeout = 0`, and every wait for the lock happens here. Once
 * `budgetMs` has passed, throws WriteLockBusyError. `attempt` must leave nothing behind when it
 * fails (a transaction rolled back), since it runs again.
 */
export async function retryWhileBusy<T>(attempt: () => Promise<T>, budgetMs: number): Promise<T> {
  const started = performance.now();
  for (let pause = FIRST_PAUSE_MS; ; pause = Math.min(pause * 2, LONGEST_PAUSE_MS)) {
    try {
      return await attempt();
    } catch (error) {
      if (!isBusy(error)) throw error;
      const waited = performance.now() - started;
      // Jitter: waiters that found the lock busy together do not all come back at once.
      const next = pause * (0.5 + Math.random());
      if (waited + next > budgetMs) throw new WriteLockBusyError(waited);
      await sleep(next);
    }
  }
}
