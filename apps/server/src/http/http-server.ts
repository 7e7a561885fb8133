import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { sql } from "kysely";
import { corsHeaders, keepVaryOrigin } from "./cors.js";
import { createFastTRPCHandler } from "./fast-trpc-handler.js";
import { appRouter } from "../trpc/router.js";
import { createContextInner, type ServiceDeps } from "../trpc/context.js";

export const TRPC_BASE_PATH = "/trpc";
/** tRPC's stock adapter answers other methods (TRACE, PUT, …) with a 500; they get a 405 here. */
const TRPC_METHODS = new Set(["GET", "POST", "HEAD", "OPTIONS"]);
/** Larger than any valid request this API takes; bigger bodies get 413 before they are parsed. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BATCH_SIZE = 10;
/** Slow clients: headers must arrive within 10 s and a whole request within 30 s; idle keep-alive closes after 5 s. */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Larger request headers get 431. */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface HttpServerOptions {
  deps: ServiceDeps;
  port: number;
  host?: string | undefined;
  maxBodyBytes?: number;
  /** Browser origins allowed to call the session.* procedures. Default: none. */
  corsOrigins?: readonly string[];
  /** Most calls one batched request may carry (more gets 400). */
  maxBatchSize?: number;
  /**
   * "fast" (default): tRPC's wire protocol spoken on node:http for plain JSON calls, the stock
   * adapter for everything else. "stock": tRPC's own adapter for every request.
   */
  handler?: "fast" | "stock";
}

export interface RunningHttpServer {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  port: number;
  /** Stops accepting, lets requests in flight finish (up to `timeoutMs`), then resolves. */
  close(timeoutMs?: number): Promise<void>;
}

const procedures = appRouter._def.procedures as Record<string, unknown>;

/** The procedure path as tRPC reads it (percent-decoded), or null when it cannot be decoded. */
function decodeProcedurePath(procedurePath: string): string | null {
  try {
    return decodeURIComponent(procedurePath);
  } catch {
    return null;
  }
}

/** Whether a decoded /trpc path names only procedures of this router (one, or a comma-separated batch). */
function namesKnownProcedures(decodedPath: string): boolean {
  return decodedPath
    .replace(/^\/+|\/+$/g, "")
    .split(",")
    .every((name) => Object.hasOwn(procedures, name));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

export async function startHttpServer({
  deps,
  port,
  host,
  maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
  corsOrigins = [],
  maxBatchSize = DEFAULT_MAX_BATCH_SIZE,
  handler = "fast",
}: HttpServerOptions): Promise<RunningHttpServer> {
  const allowedOrigins = new Set(corsOrigins);
  const createContext = (req: IncomingMessage, res: ServerResponse) =>
    createContextInner(deps, {
      authorization: req.headers.authorization,
      setResponseHeader: (name, value) => res.setHeader(name, value),
    });
  // Only the code and path: inputs can hold tokens, and callers' mistakes are not ours to shout about.
  const onError = ({ error, path }: { error: TRPCError; path: string | undefined }) => {
    if (error.code === "INTERNAL_SERVER_ERROR") deps.logger.error({ err: error.cause ?? error, path }, "request failed");
    else deps.logger.debug({ code: error.code, path }, "request refused");
  };
  const stockHandler = createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_BASE_PATH}/`,
    maxBodySize: maxBodyBytes,
    maxBatchSize,
    createContext: ({ req, res }) => createContext(req, res),
    onError,
  });
  const fastHandler =
    handler === "fast"
      ? createFastTRPCHandler({ router: appRouter, createContext, maxBodySize: maxBodyBytes, maxBatchSize, onError })
      : null;

  /** Everything under /trpc/: method and CORS checks, unknown procedures, then the fast or stock handler. */
  const handleTrpc = (req: IncomingMessage, res: ServerResponse, procedurePath: string, search: string) => {
    // Decoded once, as tRPC decodes it, for the CORS check, the procedure check and the fast handler.
    const decodedPath = decodeProcedurePath(procedurePath);
    const cors = corsHeaders(req, decodedPath, allowedOrigins);
    if (!TRPC_METHODS.has(req.method ?? "")) {
      res.setHeader("allow", "GET, POST, HEAD, OPTIONS");
      sendJson(res, 405, {
        error: {
          message: `Method ${req.method} is not supported; use GET for queries and POST for mutations`,
          code: -32005,
          data: { code: "METHOD_NOT_SUPPORTED", httpStatus: 405 },
        },
      });
      return;
    }
    if (req.method === "OPTIONS") {
      // A preflight: allowed only for session.* from a configured origin; anything else is refused plainly.
      if (cors) res.writeHead(204, cors).end();
      else sendJson(res, 403, { error: { message: "Cross-origin calls are allowed only to session.* procedures from configured origins" } });
      return;
    }
    if (cors) {
      for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
      keepVaryOrigin(res);
    }
    // An undecodable path goes to the stock adapter, which answers it with its own 400.
    if (decodedPath !== null && !namesKnownProcedures(decodedPath)) {
      // Answered here, not by tRPC, whose message and log line would repeat the path: a
      // credential pasted into a URL must not come back, nor reach the logs.
      sendJson(res, 404, {
        error: { message: "No such procedure", code: -32004, data: { code: "NOT_FOUND", httpStatus: 404 } },
      });
      return;
    }
    if (decodedPath === null || !fastHandler?.(req, res, decodedPath, search)) stockHandler(req, res);
  };

  // Node enforces the header and request timeouts on a periodic sweep (every 30 s by default):
  // a 1 s sweep makes the 10 s header timeout hold within a second.
  const server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval: 1_000 },
    (req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? "/";
      const queryStart = url.indexOf("?");
      const path = queryStart === -1 ? url : url.slice(0, queryStart);
      if (path === TRPC_BASE_PATH || path.startsWith(`${TRPC_BASE_PATH}/`)) {
        handleTrpc(req, res, path.slice(TRPC_BASE_PATH.length + 1), queryStart === -1 ? "" : url.slice(queryStart + 1));
      } else if (path === "/health" && (req.method === "GET" || req.method === "HEAD")) {
        sql`select 1`.execute(deps.db).then(
          () => sendJson(res, 200, { status: "ok" }),
          (error: unknown) => {
            deps.logger.error({ err: error }, "health check failed");
            sendJson(res, 503, { status: "unavailable" });
          },
        );
      } else {
        sendJson(res, 404, { error: { message: `Not found. The API is served under ${TRPC_BASE_PATH}/` } });
      }
    },
  );

  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: (timeoutMs = 10_000) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Connections still busy after the grace period are cut so shutdown always finishes.
        setTimeout(() => server.closeAllConnections(), timeoutMs).unref();
      }),
  };
}
