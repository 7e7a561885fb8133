import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Logger } from "../shared/logger.js";

/**
 * One line per request, written when its response closes: who called what and how it ended. It
 * names the caller by ids only (the key's or the session token's id, the organization), never by
 * the credential, so the line can be kept and shipped like any other.
 */
export interface AccessRecord {
  readonly requestId: string;
  /** The procedure (a batch's, comma-separated), or the path for anything outside /trpc. */
  procedure: string | undefined;
  /** The secret key that authenticated the call, by id. */
  keyId: string | undefined;
  /** The session token a browser call carried, by id, once it was found valid. */
  tokenId: string | undefined;
  organizationId: string | undefined;
  environment: string | undefined;
  /** The tRPC error code of a refused call (a batch's first). */
  errorCode: string | undefined;
  /** Why a session token was refused (the browser only learns UNAUTHORIZED; the operator learns why). */
  reason: string | undefined;
}

/** A request carrying its access record (set once, where the server first sees it). */
export type LoggedRequest = IncomingMessage & { accessRecord?: AccessRecord };

/**
 * An incoming x-request-id is kept when it is short and plain (a proxy's or a caller's id, to follow
 * one call through several systems); anything else could forge or break log lines, so a fresh id
 * is made instead.
 */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:+=/-]{8,128}$/;

export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === "string" && ACCEPTABLE_REQUEST_ID.test(header) ? header : `req_${randomUUID()}`;
}

/**
 * The access log of one server: `start` gives a request its id (answered as `x-request-id`) and its
 * record, and logs the record when the response closes. Successful health checks are logged at
 * debug: a load balancer polls them every few seconds, and they would drown the calls worth reading.
 */
export function createAccessLog(logger: Logger): { start(req: IncomingMessage, res: ServerResponse): AccessRecord } {
  // The line holds ids, codes and numbers only, never a credential: it is written without the
  // root logger's redaction, whose wildcard paths would cost more than the rest of the line.
  const access = logger.child({}, { redact: [] });
  return {
    start(req, res) {
      const startedAt = performance.now();
      const record: AccessRecord = {
        requestId: requestIdFor(req.headers["x-request-id"]),
        procedure: undefined,
        keyId: undefined,
        tokenId: undefined,
        organizationId: undefined,
        environment: undefined,
        errorCode: undefined,
        reason: undefined,
      };
      (req as LoggedRequest).accessRecord = record;
      res.setHeader("x-request-id", record.requestId);
      // Below info nothing is written, and the request pays for no listener.
      if (!access.isLevelEnabled("info")) return record;
      res.once("close", () => {
        const status = res.statusCode;
        const line = {
          requestId: record.requestId,
          method: req.method,
          procedure: record.procedure,
          status,
          durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
          keyId: record.keyId,
          tokenId: record.tokenId,
          organizationId: record.organizationId,
          environment: record.environment,
          errorCode: record.errorCode,
          reason: record.reason,
          // The client went away before the whole answer was handed over.
          aborted: res.writableFinished ? undefined : true,
        };
        if (record.procedure === "/health" && status === 200) access.debug(line, "request");
        else access.info(line, "request");
      });
      return record;
    },
  };
}

/** The record of the request a response answers, if the server gave it one. */
export function accessRecordOf(res: ServerResponse): AccessRecord | undefined {
  return (res.req as LoggedRequest | undefined)?.accessRecord;
}
