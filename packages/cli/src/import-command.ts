import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { CustomerToImport, UnresolvedCounts } from "@billingos/contracts";
import { BillingOS, BillingOSError } from "@billingos/node";
import { addImported, createBatchSender, sendInOrder } from "./batch-sender.js";
import { type BatchLimits, batches, MAX_BATCH_BYTES } from "./batcher.js";
import { CliError, UsageError } from "./cli-errors.js";
import { type CliIo, writeLine } from "./cli-io.js";
import { formatReport, ImportTally } from "./import-report.js";
import { createProgress, type Progress, type ProgressSnapshot } from "./progress.js";
import { DEFAULT_RETRY_POLICY, isTransient, type RetryPolicy } from "./retry.js";
import { type CustomerRow, type CustomerSource, openCustomerSource } from "./sources/customer-source.js";
import { fileErrorMessage } from "./sources/detect-format.js";

export interface StripeImportOptions {
  file: string;
  secretKey: string;
  /** Both the sandbox and the production URL; else the client's own routing by key. */
  url: string | undefined;
  dryRun: boolean;
  batchRows: number;
  /** A record (line, element, row) over this many bytes stops the import; see record-limit.ts. */
  maxRecordBytes: number;
}

/** The progress bar hears of the reading every this many rows (and after every batch). */
const TICK_ROWS = 256;

/**
 * `billingos import stripe FILE`: streams the file's customers to the import API in batches and
 * prints a report. Returns the exit code; throws only CliError (explained in one line by the caller).
 */
export async function runStripeImport(options: StripeImportOptions, io: CliIo): Promise<number> {
  const client = clientFor(options, io.env ?? process.env);
  const path = resolve(io.cwd ?? process.cwd(), options.file);
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    size = info.size;
  } catch (error) {
    throw new CliError(fileErrorMessage(path, error));
  }
  const source = await openCustomerSource(path, size, { maxRecordBytes: options.maxRecordBytes });
  const limits: BatchLimits = { rows: options.batchRows, bytes: MAX_BATCH_BYTES };
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    baseDelayMs: io.retryBaseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
  };
  const tally = new ImportTally(options.dryRun);
  const progress = createProgress(io, size);
  const started = performance.now();
  const report = (stoppedEarly: boolean) => {
    for (const line of formatReport(tally, {
      file: path,
      format: source.format,
      elapsedMs: performance.now() - started,
      stoppedEarly,
    })) {
      writeLine(io.stdout, line);
    }
  };

  const send = createBatchSender({
    client,
    dryRun: options.dryRun,
    policy,
    onRetry: (error, retry, delayMs) => {
      tally.retries++;
      progress.note(
        `batch ${tally.batches + 1}: ${error.code} (${oneLine(error.message)}); retry ${retry} in ${(delayMs / 1000).toFixed(1)} s`,
      );
    },
  });
  const snapshot = (): ProgressSnapshot => ({
    bytesRead: source.bytesRead(),
    rowsRead: tally.rowsRead,
    rowsDone: tally.imported + tally.badRows + tally.deleted,
    imported: tally.imported,
    skipped: tally.badRows,
    batches: tally.batches,
  });

  // Ctrl-C stops the import where it is; what was sent is in, and the same command finishes it.
  const onInterrupt = () => {
    progress.stop();
    const done =
      tally.batches > 0
        ? `${tally.imported} rows were ${tally.dryRun ? "checked" : "imported"} before it stopped; `
        : "";
    writeLine(io.stderr, `\ninterrupted: ${done}re-running the same command is safe and finishes the import.`);
    process.exit(130);
  };
  process.once("SIGINT", onInterrupt);
  try {
    return await importAll();
  } finally {
    process.off("SIGINT", onInterrupt);
  }

  async function importAll(): Promise<number> {
    const customers = goodCustomers(
      source,
      progress,
      snapshot,
      () => ++tally.rowsRead,
      (row) => {
        if (row.deleted) {
          tally.deleted++;
          progress.note(`deleted ${row.location}: ${oneLine(row.reason)}`);
          return;
        }
        tally.badRows++;
        progress.note(`skipped ${row.location}: ${oneLine(row.reason)}`);
      },
    );
    try {
      await sendInOrder(batches(customers, limits), send, (result) => {
        tally.addBatch(result);
        progress.batchSent(snapshot());
      });
    } catch (error) {
      progress.stop();
      if (tally.batches > 0) report(true);
      throw failure(error, tally, client, policy.attempts);
    }

    if (tally.needsRecount) {
      try {
        tally.replaceUnresolved(
          await recountUnresolved(path, size, source, {
            client,
            limits,
            policy,
            progress,
            tally,
            maxRecordBytes: options.maxRecordBytes,
          }),
        );
      } catch (error) {
        // The import itself is done; only the figures are less exact than they could be.
        progress.note(
          `warning: could not count unresolved customers again (${oneLine(failureMessage(error))}); the unresolved figures below are as each batch left them`,
        );
      }
    }
    progress.stop();
    report(false);
    return 0;
  }
}

/** `--url` for both environments; else the client routes by key, with the URLs of `env`. */
function clientFor(options: StripeImportOptions, env: NodeJS.ProcessEnv): BillingOS {
  if (options.url !== undefined && !isHttpUrl(options.url)) {
    throw new UsageError(
      `--url: ${JSON.stringify(options.url)} is not an http(s) URL; give the server's base URL, e.g. https://billing.example.com`,
    );
  }
  try {
    const client = new BillingOS({
      secretKey: options.secretKey,
      sandboxUrl: options.url ?? (env.BILLINGOS_SANDBOX_URL || undefined),
      productionUrl: options.url ?? (env.BILLINGOS_PRODUCTION_URL || undefined),
      // The importer retries whole batches itself (retry.ts), reporting each retry on its progress line.
      maxNetworkRetries: 0,
    });
    // Checks the key's shape and checksum now, before the file is read.
    void client.apiUrl;
    return client;
  } catch (error) {
    if (error instanceof BillingOSError) {
      // Without --url, the URLs come from BILLINGOS_SANDBOX_URL / BILLINGOS_PRODUCTION_URL.
      const environment = Object.keys(error.fieldErrors).some((key) => /url/i.test(key));
      throw new UsageError(
        environment
          ? `BILLINGOS_SANDBOX_URL / BILLINGOS_PRODUCTION_URL: ${oneLine(error.message)}`
          : `--key: ${oneLine(error.message)}`,
      );
    }
    throw error;
  }
}

/**
 * The file's good rows as customers. `countRow` counts each row read and returns the count (the
 * progress line ticks every TICK_ROWS); bad rows go to `onBadRow` and are left out.
 */
async function* goodCustomers(
  source: CustomerSource,
  progress: Progress,
  snapshot: () => ProgressSnapshot,
  countRow: () => number,
  onBadRow: (row: Extract<CustomerRow, { ok: false }>) => void,
): AsyncGenerator<CustomerToImport> {
  for await (const row of source.rows()) {
    if (countRow() % TICK_ROWS === 0) progress.tick(snapshot());
    if (row.ok) yield row.customer;
    else onBadRow(row);
  }
}

/**
 * Reads the file again and sends it as dry runs: with every customer now in, each batch's
 * unresolved reasons are the final ones (an email shared with a customer of a later batch
 * included). Nothing is written.
 */
async function recountUnresolved(
  path: string,
  size: number,
  first: CustomerSource,
  context: {
    client: BillingOS;
    limits: BatchLimits;
    policy: RetryPolicy;
    progress: Progress;
    tally: ImportTally;
    maxRecordBytes: number;
  },
): Promise<UnresolvedCounts> {
  const { progress, tally } = context;
  progress.phase(
    "Counting unresolved customers again, as emails are shared across batches (reads the file once more, writes nothing)",
  );
  const source = await openCustomerSource(path, size, { format: first.format, maxRecordBytes: context.maxRecordBytes });
  const send = createBatchSender({
    client: context.client,
    dryRun: true,
    policy: context.policy,
    onRetry: () => {
      tally.retries++;
    },
  });
  let rows = 0;
  let sent = 0;
  let checked = 0;
  let total: ReturnType<typeof addImported> | undefined;
  // Nothing is imported in this pass: `imported` stays 0, the rows sent count as checked.
  const snapshot = (): ProgressSnapshot => ({
    bytesRead: source.bytesRead(),
    rowsRead: rows,
    rowsDone: checked,
    imported: 0,
    skipped: 0,
    batches: sent,
  });
  const customers = goodCustomers(
    source,
    progress,
    snapshot,
    () => ++rows,
    () => {
      checked++;
    },
  );
  await sendInOrder(batches(customers, context.limits), send, (result) => {
    total = total === undefined ? result : addImported(total, result);
    checked += result.created + result.updated + result.unchanged;
    sent++;
    progress.batchSent(snapshot());
  });
  return total?.unresolved ?? { awaiting_first_session: 0, no_email: 0, email_shared: 0, binding_undone: 0 };
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function failureMessage(error: unknown): string {
  if (error instanceof BillingOSError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** The one line that explains why the import stopped, and that re-running is safe. */
function failure(error: unknown, tally: ImportTally, client: BillingOS, attempts: number): CliError {
  const done =
    tally.batches > 0
      ? ` ${tally.imported} rows were ${tally.dryRun ? "checked" : "imported"} before it stopped; re-running the same command is safe and finishes the job.`
      : "";
  const sentence = (text: string) => `${oneLine(text).replace(/[.\s]+$/, "")}.${done}`;
  if (error instanceof CliError) return new CliError(sentence(error.message));
  if (error instanceof BillingOSError) {
    const batch = `batch ${tally.batches + 1}`;
    if (error.code === "UNAUTHORIZED")
      return new CliError(sentence(`${batch}: the server refused the key (UNAUTHORIZED: ${error.message})`));
    if (isTransient(error)) {
      return new CliError(
        sentence(`${batch} still failed after ${attempts} tries at ${client.apiUrl} (${error.code}: ${error.message})`),
      );
    }
    return new CliError(sentence(`${batch} was refused (${error.code}: ${error.message})`));
  }
  return new CliError(sentence(failureMessage(error)));
}
