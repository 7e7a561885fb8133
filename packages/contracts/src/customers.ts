import { z } from "zod";
import { environment } from "./environment.js";
import { externalId, MAX_METADATA_BYTES, MAX_METADATA_VALUES, pageLimit, prefixedId } from "./fields.js";
import { inputObject } from "./input-object.js";
import { boundedJsonObject, storedJsonObject } from "./json-object.js";
import { text } from "./text.js";
import { timestamp } from "./timestamp.js";

/** Imported Stripe customers (SPEC §5). */

export const MAX_IMPORT_BATCH = 1000;

/** Metadata keys that carry the merchant's own user id, so a customer can be bound at import. */
export const PRE_BIND_METADATA_KEYS = [
  "external_id",
  "external_user_id",
  "externalUserId",
  "user_id",
  "userId",
] as const;

export const stripeCustomerId = z
  .string({ error: "stripeCustomerId must be a string" })
  .regex(/^cus_[0-9A-Za-z]{1,250}$/, { error: "stripeCustomerId must be a Stripe customer id (cus_…)" });

export const bindingMethod = z.enum(["metadata", "email", "manual"]);
export type BindingMethod = z.infer<typeof bindingMethod>;

/**
 * Why an imported customer is still unbound. Only `awaiting_first_session` customers can bind
 * lazily; the others bind by hand (customers.bind):
 * - `no_email`: nothing to match;
 * - `email_shared`: two or more unbound customers have shared its email, which stays ambiguous for
 *   good, even after all but one are bound;
 * - `binding_undone`: the merchant undid its binding (customers.unbind); it never binds lazily again.
 */
export const unresolvedReason = z.enum(["awaiting_first_session", "no_email", "email_shared", "binding_undone"], {
  error: 'reason must be one of "awaiting_first_session", "no_email", "email_shared", "binding_undone"',
});
export type UnresolvedReason = z.infer<typeof unresolvedReason>;

/** Stripe's model: a flat map of string values, at most 8 KiB of JSON in all. */
export const stripeMetadata = boundedJsonObject<Record<string, string>>({
  field: "metadata",
  maxDepth: 1,
  maxValues: MAX_METADATA_VALUES,
  maxBytes: MAX_METADATA_BYTES,
  stringValuesOnly: true,
});

/** One customer as the import API takes it: the parts of a Stripe customer object that matter here. */
export const customerToImport = inputObject({
  stripeCustomerId,
  email: text("email").max(512, { error: "email must be at most 512 characters" }).nullable().optional(),
  name: text("name").max(512, { error: "name must be at most 512 characters" }).nullable().optional(),
  metadata: stripeMetadata.nullable().optional(),
  /** When the customer was created in Stripe. */
  createdAt: timestamp.nullable().optional(),
});
export type CustomerToImport = z.input<typeof customerToImport>;

export const importCustomersInput = inputObject({
  customers: z
    .array(customerToImport, { error: "customers must be an array" })
    .min(1, { error: "customers must hold at least one customer" })
    .max(MAX_IMPORT_BATCH, { error: `customers must hold at most ${MAX_IMPORT_BATCH} customers per batch` }),
  /** Compute the report, write nothing. */
  dryRun: z.boolean({ error: "dryRun must be true or false" }).optional(),
});
export type ImportCustomersInput = z.input<typeof importCustomersInput>;

export const unresolvedCounts = z.strictObject({
  awaiting_first_session: z.number().int().nonnegative(),
  no_email: z.number().int().nonnegative(),
  email_shared: z.number().int().nonnegative(),
  binding_undone: z.number().int().nonnegative(),
});
export type UnresolvedCounts = z.infer<typeof unresolvedCounts>;

export const customersImported = z.strictObject({
  dryRun: z.boolean(),
  created: z.number().int().nonnegative(),
  /** Unbound customers whose email, name or metadata changed. */
  updated: z.number().int().nonnegative(),
  /** Already imported with the same data, or bound (a bound customer is never changed by an import). */
  unchanged: z.number().int().nonnegative(),
  /** Bound at import from a metadata key naming the merchant's user id. */
  preBound: z.number().int().nonnegative(),
  /** This batch's customers still unbound after it, by reason. */
  unresolved: unresolvedCounts,
});
export type CustomersImported = z.output<typeof customersImported>;

export const importedCustomer = z.strictObject({
  stripeCustomerId,
  environment,
  email: z.string().nullable(),
  name: z.string().nullable(),
  metadata: storedJsonObject<Record<string, string>>("Stripe metadata, exactly as imported.", {
    type: "string",
  }).nullable(),
  createdAt: timestamp.nullable(),
  importedAt: timestamp,
  externalUserId: z.string().nullable(),
  boundAt: timestamp.nullable(),
  boundBy: bindingMethod.nullable(),
});
export type ImportedCustomer = z.output<typeof importedCustomer>;

export const unresolvedCustomer = z.strictObject({
  ...importedCustomer.shape,
  reason: unresolvedReason,
});
export type UnresolvedCustomer = z.output<typeof unresolvedCustomer>;

export const importedCustomerCursor = prefixedId("imp", "cursor");

export const listUnresolvedCustomersInput = inputObject({
  reason: unresolvedReason.optional(),
  limit: pageLimit.optional(),
  cursor: importedCustomerCursor.optional(),
});
export type ListUnresolvedCustomersInput = z.input<typeof listUnresolvedCustomersInput>;

export const unresolvedCustomerPage = z.strictObject({
  data: z.array(unresolvedCustomer),
  nextCursor: importedCustomerCursor.nullable(),
});
export type UnresolvedCustomerPage = z.output<typeof unresolvedCustomerPage>;

export const bindCustomerInput = inputObject({
  stripeCustomerId,
  externalUserId: externalId("externalUserId"),
  /**
   * Move the binding if the customer is bound to another user: unbound from that user and bound to
   * this one in one transaction (both audited). Without it, a customer bound elsewhere is a CONFLICT.
   */
  rebind: z.boolean({ error: "rebind must be true or false" }).optional(),
});
export type BindCustomerInput = z.input<typeof bindCustomerInput>;

/** Undo a customer's binding. Unbinding a customer that is not bound returns it unchanged. */
export const unbindCustomerInput = inputObject({
  stripeCustomerId,
});
export type UnbindCustomerInput = z.input<typeof unbindCustomerInput>;

export const getCustomerInput = inputObject({
  stripeCustomerId: stripeCustomerId.optional(),
  externalUserId: externalId("externalUserId").optional(),
}).refine((input) => (input.stripeCustomerId === undefined) !== (input.externalUserId === undefined), {
  error: "Give exactly one of stripeCustomerId or externalUserId",
});
export type GetCustomerInput = z.input<typeof getCustomerInput>;

const ASCII_UPPER_CASE = /[A-Z]/g;
const lowerAsciiLetter = (letter: string) => String.fromCharCode(letter.charCodeAt(0) + 32);

/**
 * What lazy binding matches on (SPEC §5, "after trimming and lower-casing"): surrounding whitespace
 * trimmed, then the ASCII letters A–Z lower-cased, and nothing else changed (no wildcards, no aliases).
 * Not `toLowerCase()`: Unicode case mapping folds different characters onto ASCII letters — the
 * KELVIN SIGN "\u212A" becomes "k", "\u0130" (İ) becomes "i̇" — so an imported "\u212Aate@x.com"
 * would bind the user who signs in as "kate@x.com", a different mailbox. With ASCII-only folding,
 * two emails normalize alike only when they differ in ASCII case or surrounding whitespace.
 */
export function normalizeEmail(email: string | null | undefined): string | null {
  const trimmed = email?.trim() ?? "";
  return trimmed === "" ? null : trimmed.replace(ASCII_UPPER_CASE, lowerAsciiLetter);
}
