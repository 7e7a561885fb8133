import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { type Context, createContextInner, type ServiceDeps } from "../trpc/context.js";
import { appRouter } from "../trpc/router.js";
import { type AccessRecord, accessRecordOf, createAccessLog, type LoggedRequest } from "./access-log.js";
import { BodyBudget, defaultMaxBufferedBodyBytesPerTenant } from "./body-budget.js";
import { createBodyGate, type GatedRequest, type NamedCalls } from "./body-gate.js";
import { limitConnectionsPerAddress } from "./connections-per-address.js";
import { corsHeaders, keepVaryOrigin } from "./cors.js";
import { answerCallsWithError } from "./error-answer.js";
import { createFastTRPCHandler } from "./fast-trpc-handler.js";
import { isValidHostHeader } from "./host-header.js";
import { batchedIdempotencyKeyRefusal, idempotencyKeyOf } from "./idempotency-header.js";
import { OPENAPI_PATH, serveOpenApiDocument } from "./openapi-route.js";
import { answerParserRefusal, setSecurityHeaders } from "./security-headers.js";
import { TRPC_BASE_PATH } from "./trpc-base-path.js";
import { isWellFormedQuery } from "./utf8.js";

export { TRPC_BASE_PATH };

/** tRPC's stock adapter answers other methods (TRACE, PUT, …) with a 500; they get a 405 here. */
const TRPC_METHODS = new Set(["GET", "POST", "HEAD", "OPTIONS"]);
/** Larger than any valid request this API takes; bigger bodies get 413 before they are parsed. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BATCH_SIZE = 10;
/** Open connections at once; past it node closes new ones as they are accepted (each costs a file descriptor and buffers). */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Bytes of request bodies held at once across all requests (64 requests at the 1 MiB body limit). */
export const DEFAULT_MAX_BUFFERED_BODY_BYTES = 64 * 1024 * 1024;
/** Open connections from one client address (an IPv6 /64) at once; 0 turns the cap off (behind a reverse proxy). */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 512;
/**
 * A connection with no traffic either way for this long is cut. What it bounds: an answer a client
 * never reads, which would otherwise stay in memory for as long as the client keeps the socket (the
 * request deadline ends when the request has arrived). Idle keep-alive connections close sooner
 * (KEEP_ALIVE_TIMEOUT_MS), and a request in progress sends or receives long before this.
 */
export const RESPONSE_WRITE_TIMEOUT_MS = 10_000;
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
  /** Open connections at once (server.maxConnections). */
  maxConnections?: number;
  /** Bytes of request bodies buffered at once across all requests; past it a body gets 503 + Retry-After: 1, unread. */
  maxBufferedBodyBytes?: number;
  /** Bytes of request bodies one tenant (organization) may have buffered at once; past it its body gets 429 + Retry-After: 1, unread. */
  maxBufferedBodyBytesPerTenant?: number;
  /** Open connections from one client address at once; more from it are closed as they arrive. 0: no cap. */
  maxConnectionsPerAddress?: number;
  /** How long a written response may wait for its client to take it (default RESPONSE_WRITE_TIMEOUT_MS). */
  responseWriteTimeoutMs?: number;
  /** Whole-request deadline (default REQUEST_TIMEOUT_MS); shorter in tests of slow clients. */
  requestTimeoutMs?: number;
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
  /** Bytes of request bodies reserved right now (diagnostics; 0 when no body is being read). */
  bodyBytesReserved(): number;
  /** Tenants holding part of the body budget right now (diagnostics). */
  tenantsReservingBodies(): number;
  /** Connections open now from a client address (diagnostics), and how many addresses have one open. */
  connectionsFrom(address: string): number;
  addressesConnected(): number;
  /** Stops accepting, lets requests in flight finish (up to `timeoutMs`), then resolves. */
  close(timeoutMs?: number): Promise<void>;
}

const procedures = appRouter._def.procedures as Record<string, unknown>;
const NOT_UTF8_QUERY_MESSAGE = "Request input (the query string) is not valid UTF-8";
const INTERNAL_ERROR = {
  error: { message: "Internal server error", code: -32603, data: { code: "INTERNAL_SERVER_ERROR", httpStatus: 500 } },
};

/** The procedure path as tRPC reads it (percent-decoded), or null when it cannot be decoded. */
function decodeProcedurePath(procedurePath: string): string | null {
  try {
    return decodeURIComponent(procedurePath);
  } catch {
    return null;
  }
}

/** The calls a decoded /trpc path names, as tRPC splits it: a batch by commas, otherwise one name. */
function namedCalls(decodedPath: string, search: string): NamedCalls {
  const isBatch = search.includes("batch") && new URLSearchParams(search).get("batch") === "1";
  const path = decodedPath.replace(/^\/+|\/+$/g, "");
  return { paths: isBatch ? path.split(",") : [path], isBatch };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Whether the request carries body bytes (sized or chunked). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

export async function startHttpServer({
  deps,
  port,
  host,
  maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
  corsOrigins = [],
  maxBatchSize = DEFAULT_MAX_BATCH_SIZE,
  maxConnections = DEFAULT_MAX_CONNECTIONS,
  maxBufferedBodyBytes = DEFAULT_MAX_BUFFERED_BODY_BYTES,
  maxBufferedBodyBytesPerTenant = defaultMaxBufferedBodyBytesPerTenant(maxBufferedBodyBytes, maxBodyBytes),
  maxConnectionsPerAddress = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  responseWriteTimeoutMs = RESPONSE_WRITE_TIMEOUT_MS,
  requestTimeoutMs = REQUEST_TIMEOUT_MS,
  handler = "fast",
}: HttpServerOptions): Promise<RunningHttpServer> {
  const allowedOrigins = new Set(corsOrigins);
  const createContext = (req: IncomingMessage, res: ServerResponse) =>
    createContextInner(deps, {
      authorization: req.headers.authorization,
      authenticatedKey: (req as GatedRequest).authenticatedKey,
      idempotencyKey: idempotencyKeyOf(req),
      setResponseHeader: (name, value) => res.setHeader(name, value),
      access: (req as LoggedRequest).accessRecord,
    });
  // Only the code and path: inputs can hold tokens, and callers' mistakes are not ours to shout about.
  // The refusal's code goes on the request's access-log line (the stock adapter hands over the
  // context, the others the response).
  const onError = ({
    error,
    path,
    ctx,
    res,
  }: {
    error: TRPCError;
    path: string | undefined;
    ctx?: Context | undefined;
    res?: ServerResponse;
  }) => {
    const record: AccessRecord | undefined = ctx?.access ?? (res === undefined ? undefined : accessRecordOf(res));
    if (record !== undefined && record.errorCode === undefined) record.errorCode = error.code;
    if (error.code === "INTERNAL_SERVER_ERROR")
      deps.logger.error({ err: error.cause ?? error, path }, "request failed");
    else deps.logger.debug({ code: error.code, path }, "request refused");
  };
  const stockHandler = createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_BASE_PATH}/`,
    maxBodySize: maxBodyBytes,
    maxBatchSize,
    createContext: ({ req, res }) => createContext(req, res),
    onError,
    // A call refused before any procedure ran (415, 405, a bad batch) comes back as the JSON error
    // envelope, which the adapter would label text/plain; streamed answers keep their own type.
    responseMeta: ({ errors, eagerGeneration }) =>
      errors.length > 0 && !eagerGeneration ? { headers: { "content-type": "application/json" } } : {},
  });
  const fastHandler =
    handler === "fast"
      ? createFastTRPCHandler({ router: appRouter, createContext, maxBodySize: maxBodyBytes, maxBatchSize, onError })
      : null;
  const accessLog = createAccessLog(deps.logger);
  const budget = new BodyBudget(maxBufferedBodyBytes, maxBufferedBodyBytesPerTenant);
  const admitBody = createBodyGate({ deps, router: appRouter, maxBodyBytes, budget, onError });

  /** The fast handler if it takes the request, else the stock adapter, which takes a read body as `req.body`. */
  const dispatch = (
    req: IncomingMessage,
    res: ServerResponse,
    decodedPath: string | null,
    search: string,
    body: string | undefined,
  ) => {
    if (decodedPath !== null && fastHandler?.(req, res, decodedPath, search, body)) return;
    if (body !== undefined) (req as IncomingMessage & { body?: string }).body = body;
    stockHandler(req, res);
  };

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
      else
        sendJson(res, 403, {
          error: { message: "Cross-origin calls are allowed only to session.* procedures from configured origins" },
        });
      return;
    }
    if (cors) {
      for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
      keepVaryOrigin(res);
    }
    // An undecodable path goes to the stock adapter, which answers it with its own 400 (reading no body).
    if (decodedPath === null) {
      if (req.method === "POST") res.setHeader("connection", "close");
      dispatch(req, res, null, search, req.method === "POST" ? "" : undefined);
      return;
    }
    const calls = namedCalls(decodedPath, search);
    if (!calls.paths.every((name) => Object.hasOwn(procedures, name))) {
      (req as LoggedRequest).accessRecord!.errorCode = "NOT_FOUND";
      if (hasBody(req)) res.setHeader("connection", "close");
      // Answered here, not by tRPC, whose message and log line would repeat the path: a
      // credential pasted into a URL must not come back, nor reach the logs.
      sendJson(res, 404, {
        error: { message: "No such procedure", code: -32004, data: { code: "NOT_FOUND", httpStatus: 404 } },
      });
      return;
    }
    // Named only once known to be procedures: an unknown path may be a credential pasted into a URL.
    (req as LoggedRequest).accessRecord!.procedure = calls.paths.join(",");
    const batchRefusal = batchedIdempotencyKeyRefusal(req, calls);
    if (batchRefusal !== undefined) {
      answerCallsWithError(res, appRouter, calls, batchRefusal, onError);
      return;
    }
    if (!isWellFormedQuery(search)) {
      // Refused: URLSearchParams would turn the ill-formed bytes into U+FFFD.
      answerCallsWithError(
        res,
        appRouter,
        calls,
        new TRPCError({ code: "BAD_REQUEST", message: NOT_UTF8_QUERY_MESSAGE }),
        onError,
      );
      return;
    }
    if (req.method !== "POST") {
      dispatch(req, res, decodedPath, search, undefined);
      return;
    }
    admitBody(req, res, calls).then(
      (body) => {
        if (body !== null) dispatch(req, res, decodedPath, search, body);
      },
      (error: unknown) => {
        // Nothing a request sends may end the process; the answer says nothing of what failed.
        deps.logger.error({ err: error }, "request failed before its procedure");
        if (res.headersSent) res.destroy();
        else sendJson(res, 500, INTERNAL_ERROR, { connection: "close" });
      },
    );
  };

  // Node enforces the header and request timeouts on a periodic sweep (every 30 s by default):
  // a 1 s sweep makes the 10 s header timeout hold within a second.
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, connectionsCheckingInterval: 1_000 }, listener);
  // Without this listener node answers `Expect: 100-continue` itself, inviting the body before the
  // caller is known; the body gate sends the 100 once it means to read (body-gate.ts).
  server.on("checkContinue", listener);

  function listener(req: IncomingMessage, res: ServerResponse): void {
    setSecurityHeaders(res);
    const access = accessLog.start(req, res);
    if (!isValidHostHeader(req.headers.host)) {
      // Refused before anything builds a URL from it (the stock adapter's `new Request` throws on `a@b`).
      sendJson(
        res,
        400,
        { error: { message: "Invalid Host header", code: -32600, data: { code: "BAD_REQUEST", httpStatus: 400 } } },
        { connection: "close" },
      );
      return;
    }
    const url = req.url ?? "/";
    const queryStart = url.indexOf("?");
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const isTrpcPath = path === TRPC_BASE_PATH || path.startsWith(`${TRPC_BASE_PATH}/`);
    // Only a POST to a procedure has its body read (by the body gate); any other request's body is
    // left unread, and its connection closed after the answer rather than drained for the next request.
    if ((!isTrpcPath || req.method !== "POST") && hasBody(req)) res.setHeader("connection", "close");
    if (isTrpcPath) {
      handleTrpc(req, res, path.slice(TRPC_BASE_PATH.length + 1), queryStart === -1 ? "" : url.slice(queryStart + 1));
    } else if (path === "/health" && (req.method === "GET" || req.method === "HEAD")) {
      access.procedure = "/health";
      // SQLite answers from its reader connection: the writer's queue (a long write, another process
      // holding the write lock) must not make a live server look dead.
      deps.store.ping().then(
        () => sendJson(res, 200, { status: "ok", engine: deps.store.engine }),
        (error: unknown) => {
          deps.logger.error({ err: error }, "health check failed");
          res.setHeader("retry-after", String(deps.store.retryLaterFor(error)?.retryAfterSeconds ?? 1));
          sendJson(res, 503, { status: "unavailable", engine: deps.store.engine });
        },
      );
    } else if (path === OPENAPI_PATH && (req.method === "GET" || req.method === "HEAD")) {
      serveOpenApiDocument(res);
    } else {
      sendJson(res, 404, { error: { message: `Not found. The API is served under ${TRPC_BASE_PATH}/` } });
    }
  }

  server.maxConnections = maxConnections;
  const perAddress = limitConnectionsPerAddress(server, maxConnectionsPerAddress);
  server.on("clientError", answerParserRefusal);
  // A client trickling its body is cut at the request deadline (408), which closes the response
  // and so gives back its reservation of the body budget.
  server.headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs);
  server.requestTimeout = requestTimeoutMs;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Socket inactivity: node destroys a connection with no traffic for this long (no 'timeout'
  // listener), which cuts an answer its client does not read, at no cost per request.
  server.timeout = responseWriteTimeoutMs;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost =
    host === undefined || host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    bodyBytesReserved: () => budget.reserved,
    tenantsReservingBodies: () => budget.tenantsHolding,
    connectionsFrom: (address) => perAddress.openFrom(address),
    addressesConnected: () => perAddress.addresses(),
    close: (timeoutMs = 10_000) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Connections still busy after the grace period are cut so shutdown always finishes.
        setTimeout(() => server.closeAllConnections(), timeoutMs).unref();
      }),
  };
}
