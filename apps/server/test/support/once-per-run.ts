import { closeSync, openSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isMainThread } from "node:worker_threads";

/**
 * Whether this test file is the first of the run to ask under `name`: vitest runs files in child
 * processes (or threads) of one process, the run's; the first file to create a marker named after
 * it and `name` gets true. For a line a skipped suite says once per run, not once per file.
 */
export function firstThisRun(name: string): boolean {
  const runPid = isMainThread ? process.ppid : process.pid;
  const marker = join(tmpdir(), `billingos-${name}-${runPid}`);
  try {
    // A marker left by an earlier run whose parent had the same pid is stale after a few minutes.
    if (Date.now() - statSync(marker).mtimeMs > 5 * 60_000) unlinkSync(marker);
  } catch {
    // No marker yet.
  }
  try {
    closeSync(openSync(marker, "wx"));
    return true;
  } catch {
    return false;
  }
}
