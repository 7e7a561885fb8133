import type { ImportedCustomer } from "@billingos/contracts";
import type { ImportedCustomerRow } from "./imported-customers.table.js";

const dateOrNull = (epochMilliseconds: number | null) =>
  epochMilliseconds === null ? null : new Date(epochMilliseconds);

/** A row as the API shows it. */
export function toImportedCustomer(row: ImportedCustomerRow): ImportedCustomer {
  return {
    stripeCustomerId: row.stripe_customer_id,
    environment: row.environment,
    email: row.email,
    name: row.name,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, string>),
    createdAt: dateOrNull(row.stripe_created_at),
    importedAt: new Date(row.imported_at),
    externalUserId: row.external_user_id,
    boundAt: dateOrNull(row.bound_at),
    boundBy: row.bound_by,
  };
}
