import { type Operation, validationDetailsOf, validationMessageOf } from "@billingos/contracts";
import { initTRPC, TRPCError } from "@trpc/server";
import { ZodError } from "zod";
import { authenticateSecretKey } from "../api-keys/api-keys.service.js";
import type { RateLimiter } from "../rate-limits/rate-limiter.js";
import { checkSessionToken, type SessionTokenCheck } from "../session-tokens/session-tokens.check.js";
import { bearerCredential } from "../shared/bearer.js";
import { RateLimitedError, RetryLaterError } from "../shared/domain-error.js";
import type { Context } from "./context.js";

/** All a caller learns of a fault of the server's. */
export const INTERNAL_ERROR_MESSAGE = "Internal server error";

/** A BAD_REQUEST that only repeats what a parser threw (JSON.parse, a throwing input schema). */
function isRawParseFailure(error: TRPCError): boolean {
  const cause = error.cause;
  return cause instanceof Error && !(cause instanceof TRPCError) && error.message === cause.message;
}

const t = initTRPC.context<Context>().create({
  // Never send stack traces to callers, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    if (error.code === "BAD_REQUEST" && error.cause instanceof ZodError) {
      const details = validationDetailsOf(error.cause);
      return { ...shape, message: validationMessageOf(details), data: { ...shape.data, ...details } };
    }
    if (error.code === "BAD_REQUEST" && isRawParseFailure(error)) {
      // V8's JSON.parse message quotes the body around the fault, which may hold a credential;
      // anything else an input parser threw is ours to log, not the caller's to read.
      return { ...shape, message: error.cause instanceof SyntaxError ? "Input is not valid JSON" : "Invalid input" };
    }
    if (error instanceof RetryLaterError) {
      return { ...shape, data: { ...shape.data, retryAfterSeconds: error.retryAfterSeconds } };
    }
    if (error.code === "INTERNAL_SERVER_ERROR") {
      // A fault of ours, not the caller's: its text ("Maximum call stack size exceeded", an SQL
      // error naming tables) helps an attacker, not the caller. The log keeps the real error.
      return { ...shape, message: INTERNAL_ERROR_MESSAGE };
    }
    return shape;
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

export const publicProcedure = t.procedure;

/**
 * A refusal that will pass (the database's write lock busy elsewhere, a rate limit) also answers
 * with a Retry-After header: the error is thrown deep in a service, where no response is at hand.
 */
function withRetryAfter<R extends { ok: boolean; error?: TRPCError }>(ctx: Context, result: R): R {
  if (result.ok || result.error === undefined) return result;
  const error = retryLaterOr(ctx, result.error);
  if (error !== result.error) throw error;
  return result;
}

/**
 * `error`, or the RetryLaterError it stands for (a transient storage failure: the database busy or
 * unreachable), with its Retry-After header set. The cause is what tRPC wrapped.
 */
function retryLaterOr(ctx: Context, error: unknown): unknown {
  const retry =
    error instanceof RetryLaterError
      ? error
      : ctx.store.retryLaterFor(error instanceof TRPCError ? error.cause : error);
  if (retry === undefined) return error;
  ctx.setResponseHeader("retry-after", String(retry.retryAfterSeconds));
  return retry;
}

/** Merchant API: `Authorization: Bearer sk_…`, checked before the input is even parsed. */
export const secretKeyProcedure = publicProcedure.use(async ({ ctx, next }) => {
  let apiKey = ctx.authenticatedKey;
  if (apiKey === undefined) {
    try {
      apiKey = await authenticateSecretKey(ctx.store, ctx.authorization, ctx.environments);
    } catch (error) {
      // The storage failing under a credential check is a 503, not a 500.
      throw retryLaterOr(ctx, error);
    }
  }
  const access = ctx.access;
  if (access !== undefined) {
    access.keyId = apiKey.id;
    access.organizationId = apiKey.organizationId;
    access.environment = apiKey.environment;
  }
  return withRetryAfter(ctx, await next({ ctx: { apiKey } }));
});

/**
 * Customer-facing API: `Authorization: Bearer bos_session_…`, verified on every call (nothing is
 * cached, so a revocation holds for the very next call), then the operation is checked. The
 * browser learns only UNAUTHORIZED or FORBIDDEN; the reason goes to the server's log.
 */
export const sessionProcedure = (operation: Operation) =>
  publicProcedure.use(async ({ ctx, path, next }) => {
    const sessionToken = bearerCredential(ctx.authorization) ?? "";
    let check: SessionTokenCheck;
    try {
      check = await checkSessionToken(ctx, sessionToken, { environments: ctx.environments }, operation);
    } catch (error) {
      // The storage failing under a credential check is a 503, not a 500 (inline: the hot path).
      throw retryLaterOr(ctx, error);
    }
    const access = ctx.access;
    if (!check.ok) {
      // The reason goes to the request's access-log line (or, outside HTTP, a line of its own).
      if (access !== undefined) access.reason = check.reason;
      else ctx.logger.info({ path, reason: check.reason }, "session token refused");
      throw new TRPCError({ code: check.reason === "operation_not_allowed" ? "FORBIDDEN" : "UNAUTHORIZED" });
    }
    if (access !== undefined) {
      access.tokenId = check.token.id;
      access.organizationId = check.token.organizationId;
      access.environment = check.token.environment;
    }
    return withRetryAfter(ctx, await next({ ctx: { session: check.token } }));
  });

/**
 * A merchant procedure limited per secret key by the limiter `pick` chooses from the context (none:
 * unlimited). Each call takes one unit before its input is parsed, so the calls of a batched
 * request take one each; a refusal is 429 with Retry-After and runs nothing. `what` names the
 * limited calls in the message ("Too many <what> with this key"). A shared limiter that cannot be
 * asked (Redis down with RATE_LIMIT_ON_UNAVAILABLE=closed, the database unreachable) is a 503 with
 * Retry-After, like any storage failure (secretKeyProcedure's withRetryAfter).
 */
export const limitedSecretKeyProcedure = (pick: (ctx: Context) => RateLimiter | undefined, what: string) =>
  secretKeyProcedure.use(async ({ ctx, next }) => {
    const limiter = pick(ctx);
    if (limiter) {
      const answer = limiter.take(ctx.apiKey.id);
      // The memory engine answers at once: await only a shared engine's promise.
      const decision = answer instanceof Promise ? await answer : answer;
      if (!decision.allowed) {
        ctx.setResponseHeader("retry-after", String(decision.retryAfterSeconds));
        throw new RateLimitedError(
          `Too many ${what} with this key: the limit is ${limiter.perMinute} a minute; retry in ${decision.retryAfterSeconds} s`,
          decision.retryAfterSeconds,
        );
      }
    }
    return next();
  });

/** Token creation (CREATE_RATE_LIMIT_PER_MINUTE). */
export const rateLimitedSecretKeyProcedure = limitedSecretKeyProcedure(
  (ctx) => ctx.createRateLimiter,
  "session tokens created",
);

/**
 * The merchant's other writes (token revocations, binds, unbinds: WRITE_RATE_LIMIT_PER_MINUTE), one
 * bucket per key for all of them: each writes rows and audit events, so an unlimited key could
 * grow the database without bound. Imports have their own limit, in rows (import-procedure.ts).
 */
export const writeLimitedSecretKeyProcedure = limitedSecretKeyProcedure(
  (ctx) => ctx.writeRateLimiter,
  "writes (revoke, bind, unbind)",
);
