import { z } from "zod";
import { environment } from "./environment.js";
import { email, externalId, jsonObject, metadata, pageLimit, prefixedId } from "./fields.js";
import { inputObject } from "./input-object.js";
import { operation } from "./operations.js";
import { wellFormedText } from "./text.js";
import { timestamp } from "./timestamp.js";

export const MIN_EXPIRES_IN = 60;
export const MAX_EXPIRES_IN = 86_400;
export const DEFAULT_EXPIRES_IN = 3_600;
/** Longer than any token this service issues, short enough to refuse junk before hashing it. */
export const MAX_SESSION_TOKEN_LENGTH = 512;

export const tokenId = prefixedId("tok", "tokenId");

export const expiresIn = z
  .number({ error: "expiresIn must be a number of seconds" })
  .int({ error: "expiresIn must be a whole number of seconds" })
  .min(MIN_EXPIRES_IN, { error: `expiresIn must be at least ${MIN_EXPIRES_IN} seconds` })
  .max(MAX_EXPIRES_IN, { error: `expiresIn must be at most ${MAX_EXPIRES_IN} seconds (24 hours)` });

export const allowedOperations = z
  .array(operation, { error: "allowedOperations must be an array of operation names" })
  .min(1, { error: "allowedOperations must list at least one operation; omit it to allow all" })
  .transform((operations) => [...new Set(operations)]);

const sessionTokenString = wellFormedText("sessionToken")
  .min(1, { error: "sessionToken must not be empty" })
  .max(MAX_SESSION_TOKEN_LENGTH, { error: `sessionToken must be at most ${MAX_SESSION_TOKEN_LENGTH} characters` });

export const createSessionTokenInput = inputObject({
  externalUserId: externalId("externalUserId"),
  /**
   * `null` is taken as "none": next-auth and most auth libraries type a user's email `string | null`,
   * so `session.user.email` can be passed as it is. Either way the token carries no email.
   */
  email: email
    .nullable()
    .transform((value) => value ?? undefined)
    .optional(),
  /**
   * Whether your app verified that the user owns `email`. `false`: the email is never used to bind
   * an imported customer. Absent: it is, unless the server is set to require verified emails, where
   * only `true` binds.
   */
  emailVerified: z.boolean({ error: "emailVerified must be true or false" }).optional(),
  externalOrganizationId: externalId("externalOrganizationId").optional(),
  expiresIn: expiresIn.optional(),
  allowedOperations: allowedOperations.optional(),
  metadata: metadata.optional(),
});
export type CreateSessionTokenInput = z.input<typeof createSessionTokenInput>;

export const sessionTokenCreated = z.strictObject({
  tokenId,
  sessionToken: z.string(),
  expiresAt: timestamp,
  /** Present only while imported customers of this organization and environment await a bind. */
  unresolvedCustomers: z.number().int().positive().optional(),
});
export type SessionTokenCreated = z.output<typeof sessionTokenCreated>;

export const revokeSessionTokenInput = inputObject({
  tokenId: tokenId.optional(),
  sessionToken: sessionTokenString.optional(),
}).refine((input) => (input.tokenId === undefined) !== (input.sessionToken === undefined), {
  error: "Give exactly one of tokenId or sessionToken",
});
export type RevokeSessionTokenInput = z.input<typeof revokeSessionTokenInput>;

export const sessionTokenRevoked = z.strictObject({
  tokenId,
  /** The first revocation's time: revoking again returns it unchanged. */
  revokedAt: timestamp,
});
export type SessionTokenRevoked = z.output<typeof sessionTokenRevoked>;

export const verifySessionTokenInput = inputObject({
  sessionToken: sessionTokenString,
  operation: operation.optional(),
});
export type VerifySessionTokenInput = z.input<typeof verifySessionTokenInput>;

export const invalidReason = z.enum([
  "malformed",
  "not_found",
  "expired",
  "revoked",
  "wrong_environment",
  "operation_not_allowed",
]);
export type InvalidReason = z.infer<typeof invalidReason>;

export const sessionCustomer = z.strictObject({
  externalUserId: z.string(),
  externalOrganizationId: z.string().nullable(),
  email: z.string().nullable(),
});
export type SessionCustomer = z.output<typeof sessionCustomer>;

export const sessionTokenVerification = z.discriminatedUnion("valid", [
  z.strictObject({
    valid: z.literal(true),
    tokenId,
    environment,
    customer: sessionCustomer,
    /** null: every customer operation is allowed. */
    allowedOperations: z.array(operation).nullable(),
    expiresAt: timestamp,
    metadata: jsonObject.nullable(),
  }),
  z.strictObject({
    valid: z.literal(false),
    reason: invalidReason,
  }),
]);
export type SessionTokenVerification = z.output<typeof sessionTokenVerification>;

export const sessionTokenStatus = z.enum(["active", "expired", "revoked"]);
export type SessionTokenStatus = z.infer<typeof sessionTokenStatus>;

export const sessionTokenSummary = z.strictObject({
  tokenId,
  status: sessionTokenStatus,
  customer: sessionCustomer,
  allowedOperations: z.array(operation).nullable(),
  metadata: jsonObject.nullable(),
  createdAt: timestamp,
  expiresAt: timestamp,
  revokedAt: timestamp.nullable(),
});
export type SessionTokenSummary = z.output<typeof sessionTokenSummary>;

export const listSessionTokensInput = inputObject({
  externalUserId: externalId("externalUserId"),
  status: z.enum(["active", "all"], { error: 'status must be "active" or "all"' }).default("all"),
  limit: pageLimit.optional(),
  cursor: tokenId.optional(),
});
export type ListSessionTokensInput = z.input<typeof listSessionTokensInput>;

export const sessionTokenPage = z.strictObject({
  data: z.array(sessionTokenSummary),
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: tokenId.nullable(),
});
export type SessionTokenPage = z.output<typeof sessionTokenPage>;

export const revokeCustomerSessionTokensInput = inputObject({
  externalUserId: externalId("externalUserId").optional(),
  externalOrganizationId: externalId("externalOrganizationId").optional(),
}).refine((input) => (input.externalUserId === undefined) !== (input.externalOrganizationId === undefined), {
  error: "Give exactly one of externalUserId or externalOrganizationId",
});
export type RevokeCustomerSessionTokensInput = z.input<typeof revokeCustomerSessionTokensInput>;

export const customerSessionTokensRevoked = z.strictObject({
  /** Tokens that were active and are now revoked (already revoked or expired ones are not counted). */
  revokedCount: z.number().int().nonnegative(),
  revokedAt: timestamp,
});
export type CustomerSessionTokensRevoked = z.output<typeof customerSessionTokensRevoked>;
