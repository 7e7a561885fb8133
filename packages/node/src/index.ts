export { BillingOS, type BillingOSOptions, type MutationOptions } from "./billingos.js";
export { BillingOSError, type BillingOSErrorCode } from "./billingos-error.js";
export { billingOSErrorCode } from "./trpc-errors.js";
export type {
  BindCustomerInput,
  CustomersImported,
  CustomerToImport,
  GetCustomerInput,
  ImportCustomersInput,
  ImportedCustomer,
  ListUnresolvedCustomersInput,
  UnresolvedCustomer,
  UnresolvedCustomerPage,
  UnresolvedReason,
  CreateSessionTokenInput,
  CustomerSessionTokensRevoked,
  InvalidReason,
  ListSessionTokensInput,
  Metadata,
  Operation,
  RevokeCustomerSessionTokensInput,
  SessionCustomer,
  SessionTokenCreated,
  SessionTokenPage,
  SessionTokenRevoked,
  SessionTokenSummary,
  SessionTokenVerification,
} from "@billingos/contracts";
export { OPERATIONS } from "@billingos/contracts";
