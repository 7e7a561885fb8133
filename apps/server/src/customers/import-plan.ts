import { type customerToImport, normalizeEmail } from "@billingos/contracts";
import type { z } from "zod";
import { newId } from "../shared/ids.js";
import type { Scope } from "../shared/scope.js";
import type { ImportedCustomerRow } from "./imported-customers.table.js";
import { externalUserIdFromMetadata } from "./pre-bind-metadata.js";

/** What an import row sets on a new or unbound customer. */
type ImportedFields = Pick<
  ImportedCustomerRow,
  "email" | "email_normalized" | "name" | "metadata" | "stripe_created_at"
>;
const IMPORTED_FIELDS = [
  "email",
  "email_normalized",
  "name",
  "metadata",
  "stripe_created_at",
] as const satisfies readonly (keyof ImportedFields)[];

/** Every column an import may change, the compared ones for "does this row need writing". */
const WRITTEN_COLUMNS = [
  ...IMPORTED_FIELDS,
  "updated_at",
  "external_user_id",
  "bound_at",
  "bound_by",
] as const satisfies readonly (keyof ImportedCustomerRow)[];

/** What the database holds of a batch before it is applied, read in a few set-based statements. */
export interface ImportSnapshot {
  /** The scope's customers whose Stripe ids the batch names, by Stripe id. */
  existing: ReadonlyMap<string, ImportedCustomerRow>;
  /** The user ids named in the batch's metadata that a customer of the scope is bound to already. */
  boundUsers: ReadonlySet<string>;
}

/** A customer bound from its metadata by this import, in batch order (one audit event each). */
export interface MetadataBinding {
  stripeCustomerId: string;
  externalUserId: string;
}

/** The writes and the report of one batch, decided in memory. */
export interface ImportPlan {
  report: ImportReportCounts;
  /** The change to the scope's unresolved counter. */
  unresolvedDelta: number;
  /** Rows to insert as they are (created by this batch). */
  inserts: ImportedCustomerRow[];
  /** Existing unbound rows as they must end up, that differ from what is stored but stay unbound. */
  updates: ImportedCustomerRow[];
  /** Existing unbound rows that this import binds from their metadata, as they must end up. */
  boundUpdates: ImportedCustomerRow[];
  bindings: MetadataBinding[];
  /** The customers this import leaves unbound, as it leaves them. */
  leftUnbound: ImportedCustomerRow[];
}

/** A batch row as the procedure hands it over (validated, createdAt a Date). */
export type ImportRowInput = z.output<typeof customerToImport>;

/** The report's counts of rows by what the import did with them. */
export interface ImportReportCounts {
  created: number;
  updated: number;
  unchanged: number;
  preBound: number;
}

/** The fields a batch row gives its customer, as stored. */
function importedFieldsOf(customer: ImportRowInput): ImportedFields {
  return {
    email: customer.email ?? null,
    email_normalized: normalizeEmail(customer.email),
    name: customer.name ?? null,
    metadata: customer.metadata ? JSON.stringify(customer.metadata) : null,
    stripe_created_at: customer.createdAt ? customer.createdAt.getTime() : null,
  };
}

/**
 * The Stripe ids of a batch, each once, and the user ids its metadata could pre-bind: what
 * planImport needs read beforehand.
 */
export function keysOfBatch(customers: readonly ImportRowInput[]): { stripeIds: string[]; externalUserIds: string[] } {
  const stripeIds = new Set<string>();
  const externalUserIds = new Set<string>();
  for (const customer of customers) {
    stripeIds.add(customer.stripeCustomerId);
    const externalUserId = externalUserIdFromMetadata(customer.metadata);
    if (externalUserId !== null) externalUserIds.add(externalUserId);
  }
  return { stripeIds: [...stripeIds], externalUserIds: [...externalUserIds] };
}

/**
 * Applies a batch, row after row, to an in-memory copy of the rows it names: the same decisions,
 * in the same order, as running each row's select, insert or update and bind against the database
 * would take (a later row of one Stripe id sees what an earlier one did), then keeps only the rows
 * whose end state differs from what is stored. New and unbound customers take the row's email, name
 * and metadata; bound customers are never changed; a customer whose metadata names a user id not yet
 * bound in the scope is bound at once ("metadata"), unless its binding was undone by the merchant.
 */
export function planImport(
  scope: Scope,
  customers: readonly ImportRowInput[],
  snapshot: ImportSnapshot,
  now: number,
): ImportPlan {
  const report = { created: 0, updated: 0, unchanged: 0, preBound: 0 };
  let unresolvedDelta = 0;
  /** Each named customer as the batch leaves it so far. */
  const current = new Map<string, ImportedCustomerRow>();
  for (const [stripeId, row] of snapshot.existing) current.set(stripeId, { ...row });
  const boundUsers = new Set(snapshot.boundUsers);
  const bindings: MetadataBinding[] = [];
  /** The customers the batch leaves unbound so far, by id. */
  const touched = new Map<string, ImportedCustomerRow>();

  for (const customer of customers) {
    const fields = importedFieldsOf(customer);
    let row = current.get(customer.stripeCustomerId);
    if (row === undefined) {
      row = {
        id: newId("imp", now),
        organization_id: scope.organizationId,
        environment: scope.environment,
        stripe_customer_id: customer.stripeCustomerId,
        ...fields,
        imported_at: now,
        updated_at: now,
        external_user_id: null,
        bound_at: null,
        bound_by: null,
        unbound_at: null,
      };
      current.set(customer.stripeCustomerId, row);
      report.created++;
      unresolvedDelta++;
    } else if (row.external_user_id !== null) {
      report.unchanged++;
      continue;
    } else if (IMPORTED_FIELDS.some((key) => row![key] !== fields[key])) {
      Object.assign(row, fields, { updated_at: now });
      report.updated++;
    } else {
      report.unchanged++;
    }

    const externalUserId = externalUserIdFromMetadata(customer.metadata);
    // A customer whose binding the merchant undid binds only by hand, even from metadata.
    if (row.unbound_at === null && externalUserId !== null && !boundUsers.has(externalUserId)) {
      Object.assign(row, { external_user_id: externalUserId, bound_by: "metadata", bound_at: now, updated_at: now });
      boundUsers.add(externalUserId);
      bindings.push({ stripeCustomerId: customer.stripeCustomerId, externalUserId });
      report.preBound++;
      unresolvedDelta--;
      // The same Stripe id earlier in the batch left it unbound; it no longer is.
      touched.delete(row.id);
    } else {
      touched.set(row.id, row);
    }
  }

  const inserts: ImportedCustomerRow[] = [];
  const updates: ImportedCustomerRow[] = [];
  const boundUpdates: ImportedCustomerRow[] = [];
  for (const [stripeId, row] of current) {
    const stored = snapshot.existing.get(stripeId);
    if (stored === undefined) inserts.push(row);
    else if (row.external_user_id !== stored.external_user_id) boundUpdates.push(row);
    else if (WRITTEN_COLUMNS.some((column) => row[column] !== stored[column])) updates.push(row);
  }
  return { report, unresolvedDelta, inserts, updates, boundUpdates, bindings, leftUnbound: [...touched.values()] };
}
