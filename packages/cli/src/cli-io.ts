/** Where the CLI reads its environment and writes its output: the process's, or a test's. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean | undefined; columns?: number | undefined };
  stderr: NodeJS.WritableStream;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Relative file paths resolve against this. Default: process.cwd(). */
  cwd?: string | undefined;
  /** Waits between retries start here and double (default 500 ms); tests shorten it. */
  retryBaseDelayMs?: number | undefined;
}

export function writeLine(stream: NodeJS.WritableStream, line: string): void {
  stream.write(`${line}\n`);
}
