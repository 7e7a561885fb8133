import {
  auditEventPage,
  currentSession,
  customerSessionTokensRevoked,
  customersImported,
  type ErrorCode,
  importedCustomer,
  sessionCustomerView,
  sessionTokenCreated,
  sessionTokenPage,
  sessionTokenRevoked,
  sessionTokenVerification,
  signedOut,
  unresolvedCustomerPage,
} from "@billingos/contracts";
import type { z } from "zod";

/**
 * What the OpenAPI document says of each procedure beyond what the router knows. The router gives
 * the kind (query: GET, mutation: POST) and the input schema; the answer's schema is named here
 * because the procedures encode their answers by hand (z.encode, or the hot paths' own encoders)
 * rather than through an `.output()` that would validate every answer again. A test checks that
 * every procedure of the router is here and nothing else is.
 */
export interface ProcedureDoc {
  summary: string;
  description?: string;
  /** Merchant API (secret key) or customer-facing API (session token, with the operation it needs). */
  auth: { kind: "secretKey" } | { kind: "sessionToken"; operation: string };
  /** Component names for the input and the answer's `result.data`. */
  inputName: string;
  outputName: string;
  output: z.ZodType;
  /** Refusals particular to this procedure, beyond those every call can get. */
  errors?: readonly ErrorCode[];
  /** Limited per secret key (429 with Retry-After). */
  rateLimited?: boolean;
  /** Takes an Idempotency-Key header (a retry replays the first answer; another request under the key is a CONFLICT). */
  idempotent?: boolean;
}

const secretKey = { kind: "secretKey" } as const;
const sessionToken = (operation: string) => ({ kind: "sessionToken", operation }) as const;

export const PROCEDURE_DOCS: Record<string, ProcedureDoc> = {
  "sessionTokens.create": {
    summary: "Create a session token for one customer",
    description:
      "Answers the token once (only its hash is stored), its id and its expiry. `unresolvedCustomers` is present " +
      "only while imported Stripe customers of this organization and environment await a bind; pass `email` so they can bind. " +
      "`email: null` is taken as no email. Rate-limited per secret key (CREATE_RATE_LIMIT_PER_MINUTE).",
    auth: secretKey,
    inputName: "CreateSessionTokenInput",
    outputName: "SessionTokenCreated",
    output: sessionTokenCreated,
    rateLimited: true,
    idempotent: true,
  },
  "sessionTokens.verify": {
    summary: "Verify a session token",
    description:
      "A typed answer, never an error, for a bad token: `valid: true` with the customer, operations, expiry and metadata, " +
      "or `valid: false` with the reason. A POST so that the token travels in the body, never in a URL.",
    auth: secretKey,
    inputName: "VerifySessionTokenInput",
    outputName: "SessionTokenVerification",
    output: sessionTokenVerification,
  },
  "sessionTokens.revoke": {
    summary: "Revoke one session token",
    description:
      "By `tokenId` or by the token itself (exactly one). Idempotent: revoking again answers the first revocation's time.",
    auth: secretKey,
    inputName: "RevokeSessionTokenInput",
    outputName: "SessionTokenRevoked",
    output: sessionTokenRevoked,
    errors: ["NOT_FOUND"],
    rateLimited: true,
    idempotent: true,
  },
  "sessionTokens.list": {
    summary: "List a customer's session tokens, newest first",
    description: "One page; pass `nextCursor` as `cursor` for the next one (null on the last page).",
    auth: secretKey,
    inputName: "ListSessionTokensInput",
    outputName: "SessionTokenPage",
    output: sessionTokenPage,
  },
  "sessionTokens.revokeForCustomer": {
    summary: "Revoke every active token of a customer or of a customer organization",
    description: "By `externalUserId` or by `externalOrganizationId` (exactly one).",
    auth: secretKey,
    inputName: "RevokeCustomerSessionTokensInput",
    outputName: "CustomerSessionTokensRevoked",
    output: customerSessionTokensRevoked,
    rateLimited: true,
    idempotent: true,
  },
  "customers.import": {
    summary: "Import a batch of Stripe customers (idempotent upsert by Stripe customer id)",
    description:
      "1 to 1,000 customers a call, and a request imports at most 1,000 across its calls (413 past it). A customer whose " +
      "metadata names the merchant's user id (external_id, external_user_id, externalUserId, user_id, userId) is bound at " +
      "import. `dryRun: true` reports without writing. Rate-limited per secret key in customers (IMPORT_RATE_LIMIT_ROWS_PER_MINUTE).",
    auth: secretKey,
    inputName: "ImportCustomersInput",
    outputName: "CustomersImported",
    output: customersImported,
    rateLimited: true,
    idempotent: true,
  },
  "customers.listUnresolved": {
    summary: "List imported customers still awaiting a bind, with the reason",
    auth: secretKey,
    inputName: "ListUnresolvedCustomersInput",
    outputName: "UnresolvedCustomerPage",
    output: unresolvedCustomerPage,
  },
  "customers.bind": {
    summary: "Bind an imported customer to the merchant's user id by hand",
    description:
      "A customer bound to another user, or a user already bound to another customer, is a CONFLICT; `rebind: true` " +
      "moves a customer bound to another user.",
    auth: secretKey,
    inputName: "BindCustomerInput",
    outputName: "ImportedCustomer",
    output: importedCustomer,
    errors: ["NOT_FOUND", "CONFLICT"],
    rateLimited: true,
    idempotent: true,
  },
  "customers.unbind": {
    summary: "Undo an imported customer's binding",
    description: "The customer then binds only by hand. Unbinding a customer that is not bound answers it unchanged.",
    auth: secretKey,
    inputName: "UnbindCustomerInput",
    outputName: "ImportedCustomer",
    output: importedCustomer,
    errors: ["NOT_FOUND"],
    rateLimited: true,
    idempotent: true,
  },
  "customers.get": {
    summary: "Read one imported customer",
    description: "By `stripeCustomerId` or by the `externalUserId` it is bound to (exactly one).",
    auth: secretKey,
    inputName: "GetCustomerInput",
    outputName: "ImportedCustomer",
    output: importedCustomer,
    errors: ["NOT_FOUND"],
  },
  "audit.listForCustomer": {
    summary: "A customer's audit trail, newest first",
    auth: secretKey,
    inputName: "ListCustomerAuditEventsInput",
    outputName: "AuditEventPage",
    output: auditEventPage,
  },
  "session.get": {
    summary: "The session in hand (customer-facing)",
    description: "Takes no input: the token says who and what. Needs the `session:read` operation.",
    auth: sessionToken("session:read"),
    inputName: "SessionGetInput",
    outputName: "CurrentSession",
    output: currentSession,
    errors: ["FORBIDDEN"],
  },
  "session.customer": {
    summary: "The customer of the session, with the bound Stripe customer if any (customer-facing)",
    description: "Takes no input. Needs the `customer:read` operation.",
    auth: sessionToken("customer:read"),
    inputName: "SessionCustomerInput",
    outputName: "SessionCustomerView",
    output: sessionCustomerView,
    errors: ["FORBIDDEN"],
  },
  "session.signOut": {
    summary: "Revoke the token in hand: the browser's sign-out (customer-facing)",
    description: "Takes no input (a body other than `{}` is refused). Needs the `session:revoke` operation.",
    auth: sessionToken("session:revoke"),
    inputName: "SessionSignOutInput",
    outputName: "SignedOut",
    output: signedOut,
    errors: ["FORBIDDEN"],
  },
};
