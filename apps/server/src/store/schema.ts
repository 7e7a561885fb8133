import type { ApiKeysTable } from "../api-keys/api-keys.table.js";
import type { AuditEventsTable } from "../audit/audit-events.table.js";
import type {
  AmbiguousCustomerEmailsTable,
  CustomerBindingCountsTable,
  ImportedCustomersTable,
} from "../customers/imported-customers.table.js";
import type { IdempotencyKeysTable } from "../idempotency/idempotency-keys.table.js";
import type { OrganizationsTable } from "../organizations/organizations.table.js";
import type { RateLimitBucketsTable } from "../rate-limits/rate-limit-buckets.table.js";
import type { SessionTokensTable } from "../session-tokens/session-tokens.table.js";

/** Every table, as Kysely sees it. Times are integer milliseconds since the epoch. */
export interface DatabaseSchema {
  organizations: OrganizationsTable;
  api_keys: ApiKeysTable;
  session_tokens: SessionTokensTable;
  imported_customers: ImportedCustomersTable;
  customer_binding_counts: CustomerBindingCountsTable;
  ambiguous_customer_emails: AmbiguousCustomerEmailsTable;
  audit_events: AuditEventsTable;
  idempotency_keys: IdempotencyKeysTable;
  rate_limit_buckets: RateLimitBucketsTable;
}
