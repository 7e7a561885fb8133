export type {
  BindCustomerInput,
  CreateSessionTokenInput,
  CustomerSessionTokensRevoked,
  CustomersImported,
  CustomerToImport,
  GetCustomerInput,
  ImportCustomersInput,
  ImportedCustomer,
  InvalidReason,
  ListSessionTokensInput,
  ListUnresolvedCustomersInput,
  Metadata,
  Operation,
  RevokeCustomerSessionTokensInput,
  SessionCustomer,
  SessionTokenCreated,
  SessionTokenPage,
  SessionTokenRevoked,
  SessionTokenSummary,
  SessionTokenVerification,
  UnresolvedCustomer,
  UnresolvedCustomerPage,
  UnresolvedReason,
} from "@billingos/contracts";
export { OPERATIONS } from "@billingos/contracts";
export { BillingOS, type BillingOSOptions, type MutationOptions } from "./billingos.js";
export { BillingOSError, type BillingOSErrorCode } from "./billingos-error.js";
export { type ItemOf, type ListPromise, MAX_AUTO_PAGING_TO_ARRAY, type Page } from "./list-promise.js";
export { billingOSErrorCode } from "./trpc-errors.js";
