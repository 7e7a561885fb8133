import type { CustomersImported, UnresolvedCounts } from "@billingos/contracts";
import { FORMAT_LABELS, type SourceFormat } from "./sources/detect-format.js";

/** What an import did so far; printed as the final report. */
export class ImportTally {
  rowsRead = 0;
  badRows = 0;
  /** Customers deleted in Stripe: left out on purpose, not bad rows. */
  deleted = 0;
  created = 0;
  updated = 0;
  unchanged = 0;
  preBound = 0;
  unresolved: UnresolvedCounts = { awaiting_first_session: 0, no_email: 0, email_shared: 0, binding_undone: 0 };
  batches = 0;
  retries = 0;
  /** The unresolved figures were counted again after the import (see `needsRecount`). */
  recounted = false;
  #mayBeStale = false;

  constructor(readonly dryRun: boolean) {}

  get imported(): number {
    return this.created + this.updated + this.unchanged;
  }

  get unresolvedTotal(): number {
    const u = this.unresolved;
    return u.awaiting_first_session + u.no_email + u.email_shared + u.binding_undone;
  }

  addBatch(result: CustomersImported): void {
    // The server counts a batch's unresolved customers as they stand after that batch. A later
    // batch can change an earlier customer's reason: a new customer with the same email makes it
    // "email_shared"; an update or a bind of an existing customer can undo that. Such a batch says
    // so in its own counts (created with email_shared, updated, or pre-bound among existing).
    if (
      this.batches > 0 &&
      ((result.created > 0 && result.unresolved.email_shared > 0) ||
        result.updated > 0 ||
        (result.preBound > 0 && result.updated + result.unchanged > 0))
    ) {
      this.#mayBeStale = true;
    }
    this.batches++;
    this.created += result.created;
    this.updated += result.updated;
    this.unchanged += result.unchanged;
    this.preBound += result.preBound;
    this.unresolved = {
      awaiting_first_session: this.unresolved.awaiting_first_session + result.unresolved.awaiting_first_session,
      no_email: this.unresolved.no_email + result.unresolved.no_email,
      email_shared: this.unresolved.email_shared + result.unresolved.email_shared,
      binding_undone: this.unresolved.binding_undone + result.unresolved.binding_undone,
    };
  }

  /**
   * Whether the summed unresolved figures may be out of date and must be counted again once the
   * whole file is in. Not in a dry run: nothing was written, so each batch was judged alone.
   */
  get needsRecount(): boolean {
    return !this.dryRun && this.#mayBeStale;
  }

  replaceUnresolved(counts: UnresolvedCounts): void {
    this.unresolved = counts;
    this.recounted = true;
  }
}

export interface ReportContext {
  file: string;
  format: SourceFormat;
  elapsedMs: number;
  /** Set when the import stopped before the end of the file. */
  stoppedEarly?: boolean;
}

/** The final report: one fact per line, `label: value`, easy to read and to grep. */
export function formatReport(tally: ImportTally, context: ReportContext): string[] {
  const seconds = context.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(tally.rowsRead / seconds) : tally.rowsRead;
  const would = tally.dryRun ? "would be " : "";
  const u = tally.unresolved;
  const lines = [
    context.stoppedEarly
      ? `Import of ${context.file} stopped before the end of the file; what was done before it stopped:`
      : tally.dryRun
        ? `Dry run of ${context.file}: nothing was written. What an import would do:`
        : `Imported ${context.file}:`,
    `  format:      ${FORMAT_LABELS[context.format]}`,
    `  rows read:   ${tally.rowsRead}`,
    `  imported:    ${tally.imported} (${would}created ${tally.created}, ${would}updated ${tally.updated}, unchanged ${tally.unchanged})`,
    `  pre-bound:   ${tally.preBound} (${would}bound at import to the user id in their metadata)`,
    `  unresolved:  ${tally.unresolvedTotal} (awaiting_first_session ${u.awaiting_first_session}, no_email ${u.no_email}, email_shared ${u.email_shared}${u.binding_undone > 0 ? `, binding_undone ${u.binding_undone}` : ""})`,
    ...(tally.deleted > 0 ? [`  deleted:     ${tally.deleted} (deleted in Stripe; not imported, nothing to fix)`] : []),
    `  skipped:     ${tally.badRows} bad row${tally.badRows === 1 ? "" : "s"}${tally.badRows > 0 ? " (listed above; fix them and re-run, re-importing is safe)" : ""}`,
    `  batches:     ${tally.batches} (retries ${tally.retries})`,
    `  time:        ${seconds.toFixed(1)} s (${rate} rows/s)`,
  ];
  if (tally.recounted)
    lines.push("  note:        unresolved counted again after the import, as emails are shared across batches");
  if (tally.dryRun && tally.batches > 1) {
    lines.push(
      "  note:        a dry run checks each batch on its own: emails shared across batches count as awaiting_first_session",
    );
  }
  return lines;
}
