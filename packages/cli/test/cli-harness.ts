import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { runCli } from "../src/run-cli.js";

export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const fixture = (name: string) => join(FIXTURES, name);

/** The command line of `billingos import stripe FILE` against the server at `url`, with more options after. */
export function stripeImportArgs(file: string, key: string, url: string, ...rest: string[]): string[] {
  return ["import", "stripe", file, "--key", key, "--url", url, ...rest];
}

/** Everything a CLI run printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

class Captured extends Writable {
  text = "";
  constructor(
    readonly isTTY: boolean,
    readonly columns = 120,
  ) {
    super();
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/**
 * Runs the CLI in process, as `billingos …` would with these arguments. The environment is empty
 * unless given, so the developer's own BILLINGOS_SECRET_KEY never leaks into a test.
 */
export async function runCliCaptured(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; tty?: boolean; retryBaseDelayMs?: number } = {},
): Promise<CliRun> {
  const stdout = new Captured(options.tty ?? false);
  const stderr = new Captured(false);
  const code = await runCli(argv, {
    stdout,
    stderr,
    env: options.env ?? {},
    retryBaseDelayMs: options.retryBaseDelayMs ?? 20,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The numbers of the final report, read back from its text (what a person sees). */
export interface ParsedReport {
  rowsRead: number;
  imported: number;
  created: number;
  updated: number;
  unchanged: number;
  preBound: number;
  unresolved: { awaiting_first_session: number; no_email: number; email_shared: number };
  skipped: number;
  batches: number;
  retries: number;
}

function number(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  if (!match) throw new Error(`report has no ${pattern} in:\n${text}`);
  return Number(match[1]);
}

export function parseReport(stdout: string): ParsedReport {
  return {
    rowsRead: number(stdout, /^ {2}rows read: +(\d+)$/m),
    imported: number(stdout, /^ {2}imported: +(\d+) /m),
    created: number(stdout, /^ {2}imported: .*created (\d+)/m),
    updated: number(stdout, /^ {2}imported: .*updated (\d+)/m),
    unchanged: number(stdout, /^ {2}imported: .*unchanged (\d+)/m),
    preBound: number(stdout, /^ {2}pre-bound: +(\d+)/m),
    unresolved: {
      awaiting_first_session: number(stdout, /^ {2}unresolved: .*awaiting_first_session (\d+)/m),
      no_email: number(stdout, /^ {2}unresolved: .*no_email (\d+)/m),
      email_shared: number(stdout, /^ {2}unresolved: .*email_shared (\d+)/m),
    },
    skipped: number(stdout, /^ {2}skipped: +(\d+)/m),
    batches: number(stdout, /^ {2}batches: +(\d+)/m),
    retries: number(stdout, /^ {2}batches: .*retries (\d+)/m),
  };
}

/** A temp directory for generated files: `clear` empties it (big files go as soon as a test is done), `remove` deletes it. */
export function tempDir(): { dir: string; path: (name: string) => string; clear: () => void; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "billingos-cli-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  return {
    dir,
    path: (name) => join(dir, name),
    clear: () => {
      remove();
      mkdirSync(dir, { recursive: true });
    },
    remove,
  };
}
