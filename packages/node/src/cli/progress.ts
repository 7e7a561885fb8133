import cliProgress from "cli-progress";
import { type CliIo, writeLine } from "./cli-io.js";

export interface ProgressSnapshot {
  bytesRead: number;
  rowsRead: number;
  imported: number;
  skipped: number;
  batches: number;
}

/** How the import shows that it is moving: a bar on a terminal, a line per batch in a log. */
export interface Progress {
  /** While reading; called often, so it must be cheap. */
  tick(snapshot: ProgressSnapshot): void;
  batchSent(snapshot: ProgressSnapshot): void;
  /** A message (a bad row, a retry) that must not garble the bar. */
  note(line: string): void;
  /** A second pass over the file starts (the bar starts over). */
  phase(label: string): void;
  stop(): void;
}

function percentOf(bytes: number, total: number): number {
  return total === 0 ? 100 : Math.min(100, Math.floor((bytes / total) * 100));
}

/** Progress by bytes of the file read, the one measure known before the rows are counted. */
export function createProgress(io: CliIo, totalBytes: number): Progress {
  return io.stdout.isTTY ? barProgress(io, totalBytes) : lineProgress(io, totalBytes);
}

/**
 * For logs and pipes: one plain line per batch, no control characters. Notes go to stderr so the
 * lines on stdout stay uniform.
 */
function lineProgress(io: CliIo, totalBytes: number): Progress {
  let recounting = false;
  return {
    tick: () => {},
    batchSent: (s) => {
      const read = `batch ${s.batches}: ${s.rowsRead} rows read (${percentOf(s.bytesRead, totalBytes)}%)`;
      writeLine(io.stdout, recounting ? `[recount] ${read}` : `[import] ${read}, ${s.imported} imported, ${s.skipped} skipped`);
    },
    note: (line) => writeLine(io.stderr, line),
    phase: (label) => {
      recounting = true;
      writeLine(io.stdout, label);
    },
    stop: () => {},
  };
}

function barProgress(io: CliIo, totalBytes: number): Progress {
  const bars = new cliProgress.MultiBar(
    {
      stream: io.stdout,
      format: "{phase} [{bar}] {percentage}% | {rows} rows, {imported} imported, {skipped} skipped | ETA {eta_formatted}",
      barsize: 20,
      hideCursor: false,
      // Its own SIGINT handler would keep Ctrl-C from stopping the import.
      gracefulExit: false,
      clearOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar = bars.create(totalBytes, 0, { phase: "import ", rows: 0, imported: 0, skipped: 0 });
  let lastTick = 0;
  const show = (s: ProgressSnapshot) =>
    bar.update(Math.min(s.bytesRead, totalBytes), { rows: s.rowsRead, imported: s.imported, skipped: s.skipped });
  return {
    tick: (s) => {
      // A bar redraws at most ten times a second; updating it for every row is wasted work.
      const now = Date.now();
      if (now - lastTick < 100) return;
      lastTick = now;
      show(s);
    },
    batchSent: show,
    note: (line) => bars.log(`${line}\n`),
    phase: (label) => {
      bar.update(totalBytes);
      bars.log(`${label}\n`);
      bar = bars.create(totalBytes, 0, { phase: "recount", rows: 0, imported: 0, skipped: 0 });
    },
    stop: () => bars.stop(),
  };
}
