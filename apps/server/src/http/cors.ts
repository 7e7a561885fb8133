import type { IncomingMessage, ServerResponse } from "node:http";

const SESSION_PROCEDURE_PREFIX = "session.";

/**
 * CORS for browsers, and only where browsers belong: the customer-facing `session.*` procedures,
 * from the configured origins. A path that names any other procedure (even in a batch beside a
 * session one) gets no CORS headers, so a browser can never call the secret-key API.
 */
export function corsHeaders(
  req: IncomingMessage,
  /** The procedure path decoded as tRPC decodes it (so %2C cannot hide a second procedure); null if undecodable. */
  decodedPath: string | null,
  allowedOrigins: ReadonlySet<string>,
): Record<string, string> | null {
  const origin = req.headers.origin;
  if (origin === undefined || decodedPath === null || !allowedOrigins.has(origin)) return null;
  const procedures = decodedPath.split(",");
  if (!procedures.every((procedure) => procedure.startsWith(SESSION_PROCEDURE_PREFIX))) return null;
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "authorization, content-type, trpc-accept",
    // A refused browser call's error carries its request id (BillingOSError.requestId) for support.
    "access-control-expose-headers": "x-request-id",
    "access-control-max-age": "600",
    vary: "Origin",
  };
}

/**
 * tRPC's handlers set their own `Vary`, which would drop the `Origin` the CORS answer depends on;
 * this keeps `Origin` in whatever Vary is set later on this response.
 */
export function keepVaryOrigin(res: ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name: string, value: number | string | readonly string[]) => {
    if (name.toLowerCase() === "vary" && !/\borigin\b/i.test(String(value)))
      return setHeader(name, `${String(value)}, Origin`);
    return setHeader(name, value);
  };
}
