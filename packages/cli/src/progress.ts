import cliProgress from "cli-progress";
import { type CliIo, writeLine } from "./cli-io.js";

export interface ProgressSnapshot {
  bytesRead: number;
  rowsRead: number;
  /** Rows dealt with: sent in a batch the server answered, or left out (bad, deleted). */
  rowsDone: number;
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

/**
 * How much of the import is done, in rows: the rows dealt with out of the rows the file holds,
 * estimated from the share of the file read so far. Bytes alone run ahead: the file is read well
 * before its rows are sent (and a small file is read at once).
 */
export function percentDone(s: ProgressSnapshot, totalBytes: number): number {
  if (totalBytes === 0 || s.rowsRead === 0) return s.rowsRead === 0 ? 0 : 100;
  const shareRead = Math.min(1, s.bytesRead / totalBytes);
  return Math.min(100, Math.floor((s.rowsDone / s.rowsRead) * shareRead * 100));
}

/** Progress by rows done, out of an estimate of the rows from the share of the file read. */
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
      const read = `batch ${s.batches}: ${s.rowsRead} rows read (${percentDone(s, totalBytes)}% done)`;
      writeLine(
        io.stdout,
        recounting
          ? `[recount] ${read}, ${s.rowsDone} checked, nothing written`
          : `[import] ${read}, ${s.imported} imported, ${s.skipped} skipped`,
      );
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
      barsize: 20,
      hideCursor: false,
      // Its own SIGINT handler would keep Ctrl-C from stopping the import.
      gracefulExit: false,
      clearOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const importFormat =
    "{phase} [{bar}] {percentage}% | {rows} rows, {imported} imported, {skipped} skipped | ETA {eta_formatted}";
  // The second pass writes nothing: it says "checked", never "imported".
  const recountFormat =
    "{phase} [{bar}] {percentage}% | {rows} rows, {checked} checked, nothing written | ETA {eta_formatted}";
  let bar = bars.create(100, 0, { phase: "import ", rows: 0, imported: 0, skipped: 0 }, { format: importFormat });
  let lastTick = 0;
  const show = (s: ProgressSnapshot) =>
    bar.update(percentDone(s, totalBytes), {
      rows: s.rowsRead,
      imported: s.imported,
      skipped: s.skipped,
      checked: s.rowsDone,
    });
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
      bar.update(100);
      bars.log(`${label}\n`);
      bar = bars.create(100, 0, { phase: "recount", rows: 0, checked: 0 }, { format: recountFormat });
    },
    stop: () => bars.stop(),
  };
}
