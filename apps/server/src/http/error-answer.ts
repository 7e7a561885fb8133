import type { ServerResponse } from "node:http";
import { type AnyTRPCRouter, getErrorShape, type TRPCError, transformTRPCResponse } from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";

/** tRPC's own Vary; a Vary set before (CORS: Origin) is kept beside it, as both handlers keep it. */
export const TRPC_VARY = "trpc-accept, accept";

/**
 * Answers every call a request names with the same error, in tRPC's envelope (an array for a
 * batch), as the handlers would answer it had the error come from reading the input: for refusals
 * decided before the body is read (too large, not UTF-8, server busy). The connection is closed
 * after the answer, so whatever body is left unread is never read.
 */
export function answerCallsWithError(
  res: ServerResponse,
  router: AnyTRPCRouter,
  call: { paths: readonly string[]; isBatch: boolean },
  error: TRPCError,
  onError: (opts: { error: TRPCError; path: string; res: ServerResponse }) => void,
): void {
  const config = router._def._config;
  const procedures = router._def.procedures as Record<
    string,
    { _def: { type: "query" | "mutation" | "subscription" } } | undefined
  >;
  const items = call.paths.map((path) => {
    onError({ error, path, res });
    const type = (Object.hasOwn(procedures, path) ? procedures[path]?._def.type : undefined) ?? "unknown";
    return { error: getErrorShape({ config, error, type, path, input: undefined, ctx: undefined }) };
  });
  const body = call.isBatch ? items : items[0]!;
  const status = getHTTPStatusCode(body as never, items.map(() => error) as never);
  const payload = JSON.stringify(transformTRPCResponse(config, body as never));
  const vary = res.getHeader("vary");
  res.writeHead(status, {
    vary: vary === undefined ? TRPC_VARY : `${TRPC_VARY}, ${String(vary)}`,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    connection: "close",
  });
  res.end(payload);
}
