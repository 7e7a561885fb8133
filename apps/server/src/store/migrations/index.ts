import type { Migration } from "kysely";
import * as initial from "./2026-11-26-0001-initial.js";
import * as importedCustomers from "./2026-11-26-0002-imported-customers.js";
import * as auditEvents from "./2026-11-26-0003-audit-events.js";
import * as unboundCustomerIndexes from "./2026-11-26-0004-unbound-customer-indexes.js";
import * as auditEventsTimeId from "./2026-12-02-0010-audit-events-time-id.js";
import * as revokeTokensOfRevokedKeys from "./2026-12-02-0011-revoke-tokens-of-revoked-keys.js";
import * as asciiEmailNormalization from "./2026-12-02-0020-ascii-email-normalization.js";
import * as ambiguousCustomerEmails from "./2026-12-02-0021-ambiguous-customer-emails.js";
import * as customerUnbinding from "./2026-12-02-0022-customer-unbinding.js";
import * as postgresBytewiseTextOrder from "./2026-12-02-0030-postgres-bytewise-text-order.js";
import * as organizationNameKey from "./2026-12-02-0040-organization-name-key.js";
import * as rateLimitBuckets from "./2026-12-02-0041-rate-limit-buckets.js";
import * as idempotencyKeys from "./2026-12-02-0050-idempotency-keys.js";

/** Every migration, by its frozen date-prefixed name; Kysely applies them in name order. */
export const migrations: Record<string, Migration> = {
  "2026-11-26-0001-initial": initial,
  "2026-11-26-0002-imported-customers": importedCustomers,
  "2026-11-26-0003-audit-events": auditEvents,
  "2026-11-26-0004-unbound-customer-indexes": unboundCustomerIndexes,
  "2026-12-02-0010-audit-events-time-id": auditEventsTimeId,
  "2026-12-02-0011-revoke-tokens-of-revoked-keys": revokeTokensOfRevokedKeys,
  "2026-12-02-0020-ascii-email-normalization": asciiEmailNormalization,
  "2026-12-02-0021-ambiguous-customer-emails": ambiguousCustomerEmails,
  "2026-12-02-0022-customer-unbinding": customerUnbinding,
  "2026-12-02-0030-postgres-bytewise-text-order": postgresBytewiseTextOrder,
  "2026-12-02-0040-organization-name-key": organizationNameKey,
  "2026-12-02-0041-rate-limit-buckets": rateLimitBuckets,
  "2026-12-02-0050-idempotency-keys": idempotencyKeys,
};
