/**
 * Failures the CLI explains in one line instead of a stack trace. `exitCode` follows the usual
 * convention: 1 when the work failed, 2 when the command line itself was wrong.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** A wrong command line: the message is followed by the command's usage. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}
