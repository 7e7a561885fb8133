import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AnyTRPCRouter, TRPCError } from "@trpc/server";
import { authenticateSecretKey } from "../api-keys/api-keys.service.js";
import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import { checkSessionToken } from "../session-tokens/session-tokens.check.js";
import { bearerCredential } from "../shared/bearer.js";
import { RateLimitedError, RetryLaterError } from "../shared/domain-error.js";
import { ALL_ENVIRONMENTS, type ServiceDeps } from "../trpc/context.js";
import type { BodyBudget } from "./body-budget.js";
import { createBodyLimit } from "./body-limit.js";
import { answerCallsWithError } from "./error-answer.js";

/**
 * What stands between a POST's socket and the wire handlers: the caller is known before a single
 * body byte is read, and bytes are read only within the server-wide budget.
 *
 * 1. Whether any call will read its input: a call refuses before its input when the credential
 *    does not authenticate (format, checksum, environment and then the key or token lookup, the
 *    same functions the procedure middlewares run) or when it is not a mutation (405). If no call
 *    will, the handlers get an empty body and run as usual, so every refusal is the procedure
 *    ladder's own answer, message and log line; the connection closes after it, body unread.
 * 2. The declared length must fit the body limit of the procedures named (413; body-limit.ts: a
 *    procedure that takes no input takes 1 KiB), and the declared length (the limit for a chunked
 *    body) must fit the caller's tenant's share of the budget (429 with Retry-After: 1: the excess
 *    is the caller's own) and the budget itself (503 with Retry-After: 1: the server, not this
 *    caller, is short of room), reserved until the response closes.
 * 3. The body is read, and must be well-formed UTF-8 (400): decoding would otherwise replace
 *    ill-formed bytes with U+FFFD, making byte-different inputs equal.
 *
 * Both handlers then get the text: the fast handler as an argument, the stock adapter as
 * `req.body` (which it takes instead of reading the socket), so neither reads the socket itself.
 */

/**
 * A request the gate let through, with the secret key it authenticated from the request's own
 * Authorization header (before its body was read): the context hands it to the procedures.
 */
export type GatedRequest = IncomingMessage & { authenticatedKey?: AuthenticatedKey };

export interface BodyGateOptions {
  deps: ServiceDeps;
  router: AnyTRPCRouter;
  maxBodyBytes: number;
  budget: BodyBudget;
  onError: (opts: { error: TRPCError; path: string; res: ServerResponse }) => void;
}

export interface NamedCalls {
  /** The procedure paths the request names, decoded (one, or a batch's). */
  paths: readonly string[];
  isBatch: boolean;
}

const SESSION_PROCEDURE_PREFIX = "session.";
/** As the session procedures read their header (trpc.ts). */
export const NOT_UTF8_BODY_MESSAGE = "Request body is not valid UTF-8";
export const BUSY_MESSAGE = "The server is receiving too many request bodies at once; retry in 1 s";
export const TENANT_BUSY_MESSAGE =
  "Too many request bodies from this organization are being received at once; retry in 1 s";
/**
 * Whose share of the budget a body counts against when the credential's lookup failed (a database
 * fault: the ladder answers it) and so no tenant is known: one share for all such requests.
 */
const UNKNOWN_TENANT = "unknown";

type ReadResult = Buffer | "aborted" | "too_large";

export function createBodyGate({ deps, router, maxBodyBytes, budget, onError }: BodyGateOptions) {
  const procedures = router._def.procedures as Record<string, { _def: { type: string } } | undefined>;
  const environments = deps.environments ?? ALL_ENVIRONMENTS;
  const bodyLimitOf = createBodyLimit(router, maxBodyBytes);

  /**
   * Whether the credential gets past the middleware, and what it authenticated: a refusal is
   * UNAUTHORIZED; anything else (a failing database) lets the ladder answer.
   */
  const outcomeOf = <T>(check: Promise<T>): Promise<{ passes: boolean; value?: T }> =>
    check.then(
      (value) => ({ passes: true, value }),
      (error: unknown) => ({ passes: !(error instanceof TRPCError && error.code === "UNAUTHORIZED") }),
    );

  /**
   * The calls that will read their input (their credential passes), the secret key the merchant
   * calls authenticated, and the tenant whose share of the body budget the body counts against:
   * the organization of the key or of the session token (its end users share their merchant's
   * share, each with a body limit of 1 KiB, so none can gather a large part of the budget).
   */
  async function admission(
    authorization: string | undefined,
    paths: readonly string[],
  ): Promise<{ readingPaths: string[]; apiKey?: AuthenticatedKey | undefined; tenant: string }> {
    let secretKey: Promise<{ passes: boolean; value?: AuthenticatedKey }> | undefined;
    let sessionToken: Promise<{ passes: boolean; value?: string }> | undefined;
    for (const path of paths) {
      const procedure = Object.hasOwn(procedures, path) ? procedures[path] : undefined;
      if (procedure?._def.type !== "mutation") continue;
      if (path.startsWith(SESSION_PROCEDURE_PREFIX)) {
        sessionToken ??= outcomeOf(
          checkSessionToken(deps, bearerCredential(authorization) ?? "", { environments }).then((check) => {
            if (!check.ok) throw new TRPCError({ code: "UNAUTHORIZED" });
            return check.token.organizationId;
          }),
        );
      } else {
        secretKey ??= outcomeOf(authenticateSecretKey(deps.store, authorization, environments));
      }
    }
    const merchant = await secretKey;
    const customer = await sessionToken;
    // A batch mixing both kinds can pass for one kind only: the other calls are refused before
    // their input is read, so they do not count toward the body limit.
    const readingPaths = paths.filter(
      (path) =>
        procedures[path]?._def.type === "mutation" &&
        (path.startsWith(SESSION_PROCEDURE_PREFIX) ? customer?.passes === true : merchant?.passes === true),
    );
    const tenant = merchant?.value?.organizationId ?? customer?.value ?? UNKNOWN_TENANT;
    return { readingPaths, apiKey: merchant?.value, tenant };
  }

  /** The body's text for the handlers, or null when the request has been answered (or its client is gone). */
  return async function admit(req: IncomingMessage, res: ServerResponse, calls: NamedCalls): Promise<string | null> {
    const declaredHeader = req.headers["content-length"];
    const chunked = req.headers["transfer-encoding"] !== undefined;
    const declared = chunked ? null : Number(declaredHeader ?? 0);
    if (declared === 0) return "";
    const { readingPaths, apiKey, tenant } = await admission(req.headers.authorization, calls.paths);
    if (readingPaths.length === 0) {
      res.setHeader("connection", "close");
      return "";
    }
    // The procedures take this key rather than authenticate the same header a second time.
    if (apiKey !== undefined) (req as GatedRequest).authenticatedKey = apiKey;
    if (req.socket.destroyed) return null;
    const limit = bodyLimitOf(readingPaths);
    if (declared !== null && !(declared <= limit)) {
      answerCallsWithError(res, router, calls, new TRPCError({ code: "PAYLOAD_TOO_LARGE" }), onError);
      return null;
    }
    const reserved = declared ?? limit;
    const reservation = budget.tryReserve(reserved, tenant);
    if (reservation !== "reserved") {
      res.setHeader("retry-after", "1");
      const error =
        reservation === "tenant_share_full"
          ? new RateLimitedError(TENANT_BUSY_MESSAGE, 1)
          : new RetryLaterError("SERVICE_UNAVAILABLE", BUSY_MESSAGE, 1);
      answerCallsWithError(res, router, calls, error, onError);
      return null;
    }
    // 'close' comes however the response ends: answered, client gone, timed out.
    res.once("close", () => budget.release(reserved, tenant));
    // A client that asked first (Expect: 100-continue) is told to send only now; the refusals above
    // went out instead of the 100, so their bodies are never sent at all.
    if (req.headers.expect?.toLowerCase() === "100-continue") res.writeContinue();
    const body = await readBody(req, reserved, declared !== null);
    if (body === "aborted") {
      res.destroy();
      return null;
    }
    if (body === "too_large") {
      answerCallsWithError(res, router, calls, new TRPCError({ code: "PAYLOAD_TOO_LARGE" }), onError);
      return null;
    }
    if (!isUtf8(body)) {
      answerCallsWithError(
        res,
        router,
        calls,
        new TRPCError({ code: "BAD_REQUEST", message: NOT_UTF8_BODY_MESSAGE }),
        onError,
      );
      return null;
    }
    return body.toString("utf8");
  };
}

/** Reads at most `limit` bytes; a sized body must arrive whole, a chunked one must end within the limit. */
function readBody(req: IncomingMessage, limit: number, sized: boolean): Promise<ReadResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (result: ReadResult) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
      if (result === "too_large") req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) finish("too_large");
      else chunks.push(chunk);
    };
    const onEnd = () => finish(!sized || received === limit ? Buffer.concat(chunks, received) : "aborted");
    const onAbort = () => finish("aborted");
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}
