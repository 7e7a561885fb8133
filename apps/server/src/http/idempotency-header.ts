import type { IncomingMessage } from "node:http";
import { TRPCError } from "@trpc/server";
import { IDEMPOTENCY_KEY_HEADER } from "../idempotency/idempotency-key.js";

/**
 * The Idempotency-Key header as sent, or undefined; every value when it was sent more than once
 * (node would join them with ", " into one key that looks valid: the request is refused instead).
 */
export function idempotencyKeyOf(req: IncomingMessage): string | readonly string[] | undefined {
  const values = req.headersDistinct[IDEMPOTENCY_KEY_HEADER];
  return values === undefined ? undefined : values.length === 1 ? values[0] : values;
}

/**
 * One key names one request's work. A batch of several calls under one key would make a retry
 * replay some calls and run others (each call succeeds or fails on its own), so it is refused,
 * before its body is read: send each mutation in a request of its own, each with its own key.
 */
export function batchedIdempotencyKeyRefusal(
  req: IncomingMessage,
  calls: { paths: readonly string[] },
): TRPCError | undefined {
  if (calls.paths.length < 2 || idempotencyKeyOf(req) === undefined) return undefined;
  return new TRPCError({
    code: "BAD_REQUEST",
    message: `An Idempotency-Key names one call; this batched request carries ${calls.paths.length}: send each mutation in a request of its own`,
  });
}
