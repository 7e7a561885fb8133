import {
  createSessionTokenInput,
  customerSessionTokensRevoked,
  listSessionTokensInput,
  revokeCustomerSessionTokensInput,
  revokeSessionTokenInput,
  type SessionTokenCreated,
  type SessionTokenVerification,
  type sessionTokenCreated,
  sessionTokenPage,
  sessionTokenRevoked,
  type sessionTokenVerification,
  verifySessionTokenInput,
} from "@billingos/contracts";
import { z } from "zod";
import { idempotentDeps } from "../trpc/idempotent-deps.js";
import {
  rateLimitedSecretKeyProcedure,
  router,
  secretKeyProcedure,
  writeLimitedSecretKeyProcedure,
} from "../trpc/trpc.js";
import { verifySessionToken } from "./session-tokens.check.js";
import { createSessionToken } from "./session-tokens.create.js";
import { listSessionTokens } from "./session-tokens.list.js";
import { revokeCustomerSessionTokens, revokeSessionToken } from "./session-tokens.revoke.js";

/**
 * The verify answer in its wire form, typed by the contract's input side. Hand-written because verify
 * is the hot path: z.encode re-validates the whole answer (~7 µs, a sixth of the procedure call);
 * the service built it from typed rows, so only the Date needs converting. A test checks it against
 * z.encode for both shapes. Fields are written out, not spread (a spread plus a property is V8's slow
 * path on Node 20).
 */
export function verificationToWire(verification: SessionTokenVerification): z.input<typeof sessionTokenVerification> {
  if (!verification.valid) return verification;
  return {
    valid: true,
    tokenId: verification.tokenId,
    environment: verification.environment,
    customer: verification.customer,
    allowedOperations: verification.allowedOperations,
    expiresAt: verification.expiresAt.toISOString(),
    metadata: verification.metadata,
  };
}

/** The create answer in its wire form, by hand for the same reason as verify's (a test checks it against z.encode). */
export function createdToWire(created: SessionTokenCreated): z.input<typeof sessionTokenCreated> {
  const wire: z.input<typeof sessionTokenCreated> = {
    tokenId: created.tokenId,
    sessionToken: created.sessionToken,
    expiresAt: created.expiresAt.toISOString(),
  };
  if (created.unresolvedCustomers !== undefined) wire.unresolvedCustomers = created.unresolvedCustomers;
  return wire;
}

// Procedures parse, call the service, and encode the answer to its wire form (Dates → ISO strings).
// Verify is a mutation so that tokens travel in a POST body, never in a URL that proxies log; it
// changes nothing, so it takes no Idempotency-Key. The other mutations replay by one (idempotentDeps).
export const sessionTokensRouter = router({
  create: rateLimitedSecretKeyProcedure
    .input(createSessionTokenInput)
    .mutation(async ({ ctx, input, path }) =>
      createdToWire(await createSessionToken(idempotentDeps(ctx, path, input), ctx.apiKey, input)),
    ),

  verify: secretKeyProcedure
    .input(verifySessionTokenInput)
    .mutation(async ({ ctx, input }) =>
      verificationToWire(await verifySessionToken(ctx, ctx.apiKey, input.sessionToken, input.operation)),
    ),

  revoke: writeLimitedSecretKeyProcedure
    .input(revokeSessionTokenInput)
    .mutation(async ({ ctx, input, path }) =>
      z.encode(sessionTokenRevoked, await revokeSessionToken(idempotentDeps(ctx, path, input), ctx.apiKey, input)),
    ),

  list: secretKeyProcedure
    .input(listSessionTokensInput)
    .query(async ({ ctx, input }) => z.encode(sessionTokenPage, await listSessionTokens(ctx, ctx.apiKey, input))),

  revokeForCustomer: writeLimitedSecretKeyProcedure
    .input(revokeCustomerSessionTokensInput)
    .mutation(async ({ ctx, input, path }) =>
      z.encode(
        customerSessionTokensRevoked,
        await revokeCustomerSessionTokens(idempotentDeps(ctx, path, input), ctx.apiKey, input, {
          type: "api_key",
          id: ctx.apiKey.id,
        }),
      ),
    ),
});
