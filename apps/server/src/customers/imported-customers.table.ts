import type { BindingMethod, Environment } from "@billingos/contracts";
import type { Insertable, Selectable } from "kysely";

export interface ImportedCustomersTable {
  id: string;
  organization_id: string;
  environment: Environment;
  stripe_customer_id: string;
  /** As Stripe had it. */
  email: string | null;
  /** normalizeEmail(email): trimmed, A–Z lower-cased (ASCII only); what lazy binding matches on. Null when there is no email. */
  email_normalized: string | null;
  name: string | null;
  /** JSON object of strings, or null. */
  metadata: string | null;
  stripe_created_at: number | null;
  imported_at: number;
  updated_at: number;
  external_user_id: string | null;
  bound_at: number | null;
  bound_by: BindingMethod | null;
  /** When the merchant last undid its binding; while unbound, such a customer binds only by hand. */
  unbound_at: number | null;
}

/** One row per organization and environment: how many imported customers are still unbound. */
export interface CustomerBindingCountsTable {
  organization_id: string;
  environment: Environment;
  unresolved_count: number;
}

/**
 * Emails that two or more unbound customers of one organization and environment have shared: lazy
 * binding never binds a customer with one of them (sticky, whatever later happens to the others).
 */
export interface AmbiguousCustomerEmailsTable {
  organization_id: string;
  environment: Environment;
  email_normalized: string;
  marked_at: number;
}

export type ImportedCustomerRow = Selectable<ImportedCustomersTable>;
export type NewImportedCustomerRow = Insertable<ImportedCustomersTable>;
