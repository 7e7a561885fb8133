import { currentSession, noInput, OPERATIONS, sessionCustomerView, signedOut } from "@billingos/contracts";
import { z } from "zod";
import { toImportedCustomer } from "../customers/customers.mapper.js";
import { findCustomerBoundTo } from "../customers/imported-customers.repository.js";
import { router, sessionProcedure } from "../trpc/trpc.js";
import { signOutSessionToken } from "./session-tokens.revoke.js";

/**
 * What a browser holding a session token may do. Each procedure names the operation it needs and
 * takes no input (the token says who and what); a body is refused, not ignored.
 */
export const sessionRouter = router({
  get: sessionProcedure("session:read")
    .input(noInput("session.get"))
    .query(({ ctx }) =>
      z.encode(currentSession, {
        tokenId: ctx.session.id,
        environment: ctx.session.environment,
        expiresAt: ctx.session.expiresAt,
        operations: ctx.session.allowedOperations ?? [...OPERATIONS],
      }),
    ),

  customer: sessionProcedure("customer:read")
    .input(noInput("session.customer"))
    .query(async ({ ctx }) => {
      const { customer } = ctx.session;
      const bound = await findCustomerBoundTo(ctx.store, ctx.session, customer.externalUserId);
      const stripe = bound === undefined ? null : toImportedCustomer(bound);
      return z.encode(sessionCustomerView, {
        ...customer,
        stripeCustomer:
          stripe === null
            ? null
            : {
                stripeCustomerId: stripe.stripeCustomerId,
                email: stripe.email,
                name: stripe.name,
                createdAt: stripe.createdAt,
              },
      });
    }),

  /** Revokes the token in hand: the browser's sign-out. */
  signOut: sessionProcedure("session:revoke")
    .input(noInput("session.signOut"))
    .mutation(async ({ ctx }) => z.encode(signedOut, await signOutSessionToken(ctx, ctx.session))),
});
