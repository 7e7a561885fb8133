import {
  createSessionTokenInput,
  customerSessionTokensRevoked,
  listSessionTokensInput,
  revokeCustomerSessionTokensInput,
  revokeSessionTokenInput,
  sessionTokenCreated,
  sessionTokenPage,
  sessionTokenRevoked,
  sessionTokenVerification,
  verifySessionTokenInput,
} from "@billingos/contracts";
import { z } from "zod";
import { rateLimitedSecretKeyProcedure, router, secretKeyProcedure } from "../trpc/trpc.js";
import {
  createSessionToken,
  listSessionTokens,
  revokeCustomerSessionTokens,
  revokeSessionToken,
  verifySessionToken,
} from "./session-tokens.service.js";

// Procedures parse, call the service, and encode the answer to its wire form (Dates → ISO strings).
// Verify is a mutation so that tokens travel in a POST body, never in a URL that proxies log.
export const sessionTokensRouter = router({
  create: rateLimitedSecretKeyProcedure
    .input(createSessionTokenInput)
    .mutation(async ({ ctx, input }) => z.encode(sessionTokenCreated, await createSessionToken(ctx, ctx.apiKey, input))),

  verify: secretKeyProcedure
    .input(verifySessionTokenInput)
    .mutation(async ({ ctx, input }) =>
      z.encode(sessionTokenVerification, await verifySessionToken(ctx, ctx.apiKey, input.sessionToken, input.operation)),
    ),

  revoke: secretKeyProcedure
    .input(revokeSessionTokenInput)
    .mutation(async ({ ctx, input }) => z.encode(sessionTokenRevoked, await revokeSessionToken(ctx, ctx.apiKey, input))),

  list: secretKeyProcedure
    .input(listSessionTokensInput)
    .query(async ({ ctx, input }) => z.encode(sessionTokenPage, await listSessionTokens(ctx, ctx.apiKey, input))),

  revokeForCustomer: secretKeyProcedure
    .input(revokeCustomerSessionTokensInput)
    .mutation(async ({ ctx, input }) =>
      z.encode(customerSessionTokensRevoked, await revokeCustomerSessionTokens(ctx, ctx.apiKey, input)),
    ),
});
