import { createRequire } from "node:module";
import { MAX_IMPORT_BATCH } from "@billingos/contracts";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DEFAULT_BATCH_ROWS } from "./batcher.js";
import { CliError, UsageError } from "./cli-errors.js";
import { type CliIo, writeLine } from "./cli-io.js";
import { runStripeImport } from "./import-command.js";
import {
  DEFAULT_MAX_RECORD_BYTES,
  formatBytes,
  MAX_MAX_RECORD_BYTES,
  MIN_MAX_RECORD_BYTES,
} from "./sources/record-limit.js";

export type { CliIo } from "./cli-io.js";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

function batchSize(value: string): number {
  const rows = Number(value);
  if (!/^\d+$/.test(value.trim()) || rows < 1 || rows > MAX_IMPORT_BATCH) {
    throw new InvalidArgumentError(`must be a whole number from 1 to ${MAX_IMPORT_BATCH}.`);
  }
  return rows;
}

function recordBytes(value: string): number {
  const bytes = Number(value);
  if (!/^\d+$/.test(value.trim()) || bytes < MIN_MAX_RECORD_BYTES || bytes > MAX_MAX_RECORD_BYTES) {
    throw new InvalidArgumentError(
      `must be a whole number of bytes from ${MIN_MAX_RECORD_BYTES} to ${MAX_MAX_RECORD_BYTES} (1 KiB to 1 GiB).`,
    );
  }
  return bytes;
}

interface ImportFlags {
  key?: string;
  url?: string;
  dryRun?: boolean;
  batch: number;
  maxRecordBytes: number;
}

/** The command tree. Output goes to `io`, and commander reports instead of exiting the process. */
function program(io: CliIo, done: (exitCode: number) => void): Command {
  const root = new Command("billingos")
    .description("BillingOS command line for merchants")
    .version(version, "-V, --version")
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .exitOverride()
    .showHelpAfterError();

  const imports = root.command("import").description("Import customers from another billing system");
  imports
    .command("stripe")
    .description(
      "Import Stripe customers from the API's JSON (a list object, an array, or one object per line) or the dashboard's customer CSV export",
    )
    .argument("<file>", "the export to read; its format is detected from its content")
    .option("--key <sk_…>", "secret API key (default: $BILLINGOS_SECRET_KEY)")
    .option(
      "--url <url>",
      "API base URL (default: by key, $BILLINGOS_SANDBOX_URL or $BILLINGOS_PRODUCTION_URL, else http://localhost:4000)",
    )
    .option("--dry-run", "report what the import would do, write nothing")
    .option("--batch <n>", `customers per request, 1–${MAX_IMPORT_BATCH}`, batchSize, DEFAULT_BATCH_ROWS)
    .addOption(
      new Option(
        "--max-record-bytes <n>",
        "largest record (JSON line, array element, CSV row) in bytes; a larger one stops the import as a damaged file. Bounds the memory used",
      )
        .argParser(recordBytes)
        .default(DEFAULT_MAX_RECORD_BYTES, `${DEFAULT_MAX_RECORD_BYTES}, ${formatBytes(DEFAULT_MAX_RECORD_BYTES)}`),
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 done (bad rows, if any, are listed and skipped), 1 failed, 2 wrong command line.",
    )
    .action(async (file: string, flags: ImportFlags, command: Command) => {
      const secretKey = flags.key ?? (io.env ?? process.env).BILLINGOS_SECRET_KEY;
      if (secretKey === undefined || secretKey === "") {
        command.error("error: missing --key sk_… (or set BILLINGOS_SECRET_KEY)", {
          exitCode: 2,
          code: "billingos.usage",
        });
      }
      try {
        done(
          await runStripeImport(
            {
              file,
              secretKey: secretKey!,
              url: flags.url,
              dryRun: flags.dryRun ?? false,
              batchRows: flags.batch,
              maxRecordBytes: flags.maxRecordBytes,
            },
            io,
          ),
        );
      } catch (error) {
        if (error instanceof UsageError)
          command.error(`error: ${error.message}`, { exitCode: 2, code: "billingos.usage" });
        throw error;
      }
    });
  return root;
}

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns its exit code:
 * 0 done, 1 failed, 2 wrong command line. Never exits the process and never prints a stack
 * trace (unless BILLINGOS_DEBUG is set), so tests can call it in process.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  try {
    await program(io, (code) => {
      exitCode = code;
    }).parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the message (and the usage, after an error).
      return error.code === "commander.helpDisplayed" || error.code === "commander.version" ? 0 : 2;
    }
    if (error instanceof CliError) {
      writeLine(io.stderr, `error: ${error.message}`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    writeLine(
      io.stderr,
      `error: unexpected failure: ${message.replace(/\s+/g, " ")} (set BILLINGOS_DEBUG=1 for details)`,
    );
    if ((io.env ?? process.env).BILLINGOS_DEBUG) io.stderr.write(`${error instanceof Error ? error.stack : message}\n`);
    return 1;
  }
}
