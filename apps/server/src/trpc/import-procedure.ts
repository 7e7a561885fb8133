import { importCustomersInput, MAX_IMPORT_BATCH } from "@billingos/contracts";
import type { RateLimiter } from "../rate-limits/rate-limiter.js";
import { DomainError, RateLimitedError } from "../shared/domain-error.js";
import type { Context } from "./context.js";
import { secretKeyProcedure } from "./trpc.js";

/**
 * Customers one HTTP request may import across all its calls: one full batch. A batched request
 * may carry 10 calls, and an import runs on the event loop (better-sqlite3 is synchronous), so
 * without this ceiling one request could hold the process for 10 batches' worth of work.
 */
export const MAX_IMPORT_ROWS_PER_REQUEST = MAX_IMPORT_BATCH;

/** How many customers a call carries, read before the input is validated (0 if it is not a list). */
function rowsSent(rawInput: unknown): number {
  const customers = (rawInput as { customers?: unknown } | null | undefined)?.customers;
  return Array.isArray(customers) ? customers.length : 0;
}

/**
 * customers.import, bounded in two ways before anything is written:
 * - per HTTP request: the rows of all its calls together, counted as sent and before validation
 *   (validating 1,000 rows is work too), at most MAX_IMPORT_ROWS_PER_REQUEST (413 past it);
 * - per key: valid rows a minute, a token bucket counted in rows (429 with Retry-After). Dry runs
 *   count: they cost the same work. A batch the bucket cannot take is refused before its rows are
 *   validated, so a client that keeps knocking costs little; the rows are taken once they are
 *   valid, so an invalid batch costs the key nothing.
 * The calls of one batched request share both, so batching gets around neither.
 */
export const importProcedure = secretKeyProcedure
  .use(async ({ ctx, getRawInput, next }) => {
    const rows = rowsSent(await getRawInput());
    // More than one batch in one call: the input's own check refuses it (400, with the field named).
    if (rows > MAX_IMPORT_BATCH) return next();
    const total = ctx.importRowsInRequest.count + rows;
    if (total > MAX_IMPORT_ROWS_PER_REQUEST) {
      throw new DomainError(
        "PAYLOAD_TOO_LARGE",
        `One request may import at most ${MAX_IMPORT_ROWS_PER_REQUEST} customers across its calls; this call's ${rows} would make ${total}: send it in a request of its own`,
      );
    }
    // The rows are the request's from here on, before any wait for a shared limiter: the other
    // calls of the batch run meanwhile and must see them. A refusal gives them back.
    ctx.importRowsInRequest.count = total;
    const limiter = ctx.importRateLimiter;
    if (limiter) {
      try {
        const answer = limiter.check(ctx.apiKey.id, rows);
        const refusal = answer instanceof Promise ? await answer : answer;
        if (!refusal.allowed) throw rateLimited(ctx, limiter, rows, refusal.retryAfterSeconds);
      } catch (error) {
        ctx.importRowsInRequest.count -= rows;
        throw error;
      }
    }
    return next();
  })
  .input(importCustomersInput)
  .use(async ({ ctx, input, next }) => {
    const rows = input.customers.length;
    const limiter = ctx.importRateLimiter;
    if (limiter) {
      const answer = limiter.take(ctx.apiKey.id, rows);
      const decision = answer instanceof Promise ? await answer : answer;
      if (!decision.allowed) throw rateLimited(ctx, limiter, rows, decision.retryAfterSeconds);
    }
    return next();
  });

function rateLimited(ctx: Context, limiter: RateLimiter, rows: number, retryAfterSeconds: number): RateLimitedError {
  ctx.setResponseHeader("retry-after", String(retryAfterSeconds));
  return new RateLimitedError(
    `Too many customers imported with this key: the limit is ${limiter.perMinute} a minute; this batch of ${rows} can be sent in ${retryAfterSeconds} s`,
    retryAfterSeconds,
  );
}
