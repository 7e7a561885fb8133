import { validationDetailsOf, validationMessageOf } from "@billingos/contracts";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { authenticateSecretKey } from "../api-keys/api-keys.service.js";
import { DomainError } from "../shared/domain-error.js";
import type { Context } from "./context.js";

const t = initTRPC.context<Context>().create({
  // Never send stack traces to callers, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    if (error.code === "BAD_REQUEST" && error.cause instanceof ZodError) {
      const details = validationDetailsOf(error.cause);
      return { ...shape, message: validationMessageOf(details), data: { ...shape.data, ...details } };
    }
    return shape;
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Services throw DomainError; here it becomes the tRPC error with the same code and message. */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: cause.code, message: cause.message, cause });
  }
  return result;
});

export const publicProcedure = t.procedure.use(domainErrors);

/** Merchant API: `Authorization: Bearer sk_…`, checked before the input is even parsed. */
export const secretKeyProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const apiKey = await authenticateSecretKey(ctx.db, ctx.authorization);
  return next({ ctx: { apiKey } });
});
