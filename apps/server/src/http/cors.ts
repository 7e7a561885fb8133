import type { IncomingMessage } from "node:http";

const SESSION_PROCEDURE_PREFIX = "session.";

/**
 * CORS for browsers, and only where browsers belong: the customer-facing `session.*` procedures,
 * from the configured origins. A path that names any other procedure (even in a batch beside a
 * session one) gets no CORS headers, so a browser can never call the secret-key API.
 */
export function corsHeaders(
  req: IncomingMessage,
  procedurePath: string,
  allowedOrigins: ReadonlySet<string>,
): Record<string, string> | null {
  const origin = req.headers.origin;
  if (origin === undefined || !allowedOrigins.has(origin)) return null;
  const procedures = procedurePath.split(",");
  if (!procedures.every((procedure) => procedure.startsWith(SESSION_PROCEDURE_PREFIX))) return null;
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "authorization, content-type, trpc-accept",
    "access-control-max-age": "600",
    vary: "Origin",
  };
}
