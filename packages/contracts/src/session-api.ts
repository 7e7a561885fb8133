import { z } from "zod";
import { importedCustomer } from "./customers.js";
import { environment } from "./environment.js";
import { inputObject } from "./input-object.js";
import { operation } from "./operations.js";
import { tokenId } from "./session-tokens.js";
import { timestamp } from "./timestamp.js";

/**
 * The customer-facing API, called from the browser with `Authorization: Bearer bos_session_…`.
 * A refused token gets UNAUTHORIZED (or FORBIDDEN for an operation outside its scope) and no reason.
 */

export const currentSession = z.strictObject({
  tokenId,
  environment,
  expiresAt: timestamp,
  /** What this token may do: its allowedOperations, or every operation when it was created without. */
  operations: z.array(operation),
});
export type CurrentSession = z.output<typeof currentSession>;

/** What a browser may see of the bound Stripe customer. */
export const stripeCustomerView = importedCustomer.pick({
  stripeCustomerId: true,
  email: true,
  name: true,
  createdAt: true,
});
export type StripeCustomerView = z.output<typeof stripeCustomerView>;

export const sessionCustomerView = z.strictObject({
  externalUserId: z.string(),
  externalOrganizationId: z.string().nullable(),
  email: z.string().nullable(),
  /** The imported Stripe customer bound to this user, if any. */
  stripeCustomer: stripeCustomerView.nullable(),
});
export type SessionCustomerView = z.output<typeof sessionCustomerView>;

export const signedOut = z.strictObject({
  tokenId,
  revokedAt: timestamp,
});
export type SignedOut = z.output<typeof signedOut>;

/**
 * The input of a procedure that takes none (the session.* procedures): nothing, or an empty object.
 * Anything else is refused like any unknown field, so a caller who believes it is choosing something
 * (`signOut({ tokenId })` signs out the token in hand, not that one) learns it is not.
 */
export const noInput = (procedure: string) => {
  const schema = inputObject({}, { error: `${procedure} takes no input` }).optional();
  noInputSchemas.add(schema);
  return schema;
};
export type NoInput = z.input<ReturnType<typeof noInput>>;

/** The schemas `noInput` made: a server may give their requests the smallest body limit. */
const noInputSchemas = z.registry();

/** Whether `schema` is one that takes no input (made by `noInput`). */
export function takesNoInput(schema: unknown): boolean {
  return schema instanceof z.ZodType && noInputSchemas.has(schema);
}
