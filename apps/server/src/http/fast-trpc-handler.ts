import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type AnyTRPCProcedure,
  type AnyTRPCRouter,
  getErrorShape,
  getTRPCErrorFromUnknown,
  TRPCError,
  transformTRPCResponse,
} from "@trpc/server";
import { getHTTPStatusCode } from "@trpc/server/http";
import { TRPC_VARY } from "./error-answer.js";

/**
 * tRPC's wire protocol spoken directly on node:http, for the calls this API actually receives:
 * JSON queries (GET) and mutations (POST), single or batched. Procedures still run through tRPC
 * (middlewares, input parsing, error formatter); only the Fetch-API translation of the stock
 * adapter (Request/Response/AbortSignal per request, ~200 µs on Node 20) is skipped.
 *
 * Anything else (HEAD, other content types, streaming accept headers, subscriptions, unknown
 * procedures, a method that does not fit, bodies without a length or over the limit, batches over
 * the limit, connection params) returns false untouched, and the caller hands
 * the request to the stock adapter, so every edge keeps its stock behaviour. For what it does
 * handle, the status and body bytes are the stock adapter's (test/http/fast-handler-equivalence).
 */

export interface FastHandlerOptions<TContext> {
  router: AnyTRPCRouter;
  createContext: (req: IncomingMessage, res: ServerResponse) => TContext;
  maxBodySize: number;
  maxBatchSize: number;
  /** `res`: the response the refused call is answered on (the access log reads its record from it). */
  onError: (opts: { error: TRPCError; path: string; res: ServerResponse }) => void;
}

interface Call {
  path: string;
  procedure: AnyTRPCProcedure;
}

type Outcome = { ok: true; data: unknown } | { ok: false; error: TRPCError; shape: unknown };

const METHOD_OF_TYPE: Record<string, string> = { query: "GET", mutation: "POST" };

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && value.split(";", 1)[0]!.trim().toLowerCase() === "application/json";
}

function wantsStream(req: IncomingMessage): boolean {
  if (req.headers["trpc-accept"] !== undefined) return true;
  const accept = req.headers.accept;
  if (accept === undefined) return false;
  return accept.split(",").some((type) => type.trim() === "application/jsonl");
}

/** The procedures a path names, or null when any of them is not a plain query/mutation for this method. */
function resolveCalls(router: AnyTRPCRouter, paths: string[], method: string): Call[] | null {
  const procedures = router._def.procedures as Record<string, AnyTRPCProcedure | undefined>;
  const calls: Call[] = [];
  let type: string | undefined;
  for (const path of paths) {
    const procedure = Object.hasOwn(procedures, path) ? procedures[path] : undefined;
    if (typeof procedure !== "function") return null;
    const procedureType = procedure._def.type;
    if (METHOD_OF_TYPE[procedureType] !== method || (type !== undefined && type !== procedureType)) return null;
    type = procedureType;
    calls.push({ path, procedure });
  }
  return calls;
}

/** A sized body, read here when the caller did not read it (the server's body gate always does); null if cut short or not UTF-8. */
function readBody(req: IncomingMessage, length: number): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received <= length) chunks.push(chunk);
    });
    req.on("end", () => {
      const bytes = Buffer.concat(chunks);
      resolve(received === length && isUtf8(bytes) ? bytes.toString("utf8") : null);
    });
    req.on("error", () => resolve(null));
  });
}

export function createFastTRPCHandler<TContext>(options: FastHandlerOptions<TContext>) {
  const { router, maxBodySize, maxBatchSize } = options;
  const config = router._def._config;

  /**
   * Answers the request and returns true, or returns false without touching it. `procedurePath`
   * is already percent-decoded (as tRPC decodes it). A POST's `body` is passed when the caller has
   * read it (the server's body gate, body-gate.ts, always has); without it the body is read here.
   */
  return function handle(
    req: IncomingMessage,
    res: ServerResponse,
    procedurePath: string,
    search: string,
    body?: string,
  ): boolean {
    const method = req.method;
    if ((method !== "GET" && method !== "POST") || wantsStream(req)) return false;
    const contentType = req.headers["content-type"];
    let bodyLength = 0;
    if (method === "POST") {
      const declared = req.headers["content-length"];
      if (!isJsonContentType(contentType) || declared === undefined || req.headers["transfer-encoding"] !== undefined) {
        return false;
      }
      bodyLength = Number(declared);
      if (!Number.isSafeInteger(bodyLength) || bodyLength > maxBodySize) return false;
    } else if (contentType !== undefined && !isJsonContentType(contentType)) {
      return false;
    }

    const params = new URLSearchParams(search);
    if (params.has("connectionParams")) return false;
    const isBatch = params.get("batch") === "1";
    const paths = isBatch ? procedurePath.split(",") : [procedurePath];
    if (isBatch && paths.length > maxBatchSize) return false;
    const calls = resolveCalls(router, paths, method);
    if (calls === null) return false;

    const text = method !== "POST" ? params.get("input") : body !== undefined ? body : readBody(req, bodyLength);
    respond(req, res, calls, isBatch, text).catch((error: unknown) => {
      // Nothing a request sends may end the process: answer what can still be answered, log the rest.
      options.onError({ error: getTRPCErrorFromUnknown(error), path: calls.map((call) => call.path).join(","), res });
      if (!res.headersSent) {
        res.writeHead(500, { vary: TRPC_VARY, "content-type": "application/json" }).end(
          JSON.stringify({
            error: {
              message: "Internal server error",
              code: -32603,
              data: { code: "INTERNAL_SERVER_ERROR", httpStatus: 500 },
            },
          }),
        );
      } else {
        res.destroy();
      }
    });
    return true;
  };

  async function respond(
    req: IncomingMessage,
    res: ServerResponse,
    calls: Call[],
    isBatch: boolean,
    rawText: string | null | Promise<string | null>,
  ): Promise<void> {
    const text = await rawText;
    if (req.method === "POST" && text === null) {
      // The client went away, lied about the length or sent bytes that are not UTF-8: nothing to answer.
      res.destroy();
      return;
    }
    // Parsed at most once, lazily, exactly as the stock JSON handler does, so a malformed body or
    // a non-object batch input fails inside the procedure call with the stock error.
    let inputs: { value: Record<number, unknown> } | { error: unknown } | undefined;
    const readInputs = (): Record<number, unknown> => {
      if (inputs === undefined) {
        try {
          inputs = { value: parseInputs(text, isBatch, calls.length) };
        } catch (cause) {
          // As the stock handler: anything but a TRPCError (a JSON syntax error) becomes BAD_REQUEST.
          inputs = {
            error:
              cause instanceof TRPCError
                ? cause
                : new TRPCError({
                    code: "BAD_REQUEST",
                    message: cause instanceof Error ? cause.message : "Invalid input",
                    cause,
                  }),
          };
        }
      }
      if ("error" in inputs) throw inputs.error;
      return inputs.value;
    };
    const ctx = options.createContext(req, res);

    // The common case, one successful call, is answered without the batch bookkeeping below.
    const outcomes = isBatch
      ? await Promise.all(calls.map((call, index) => run(call, index)))
      : [await run(calls[0]!, 0)];
    let status = 200;
    let payload: string;
    if (!isBatch && outcomes[0]!.ok) {
      // What transformTRPCResponse builds for a success, written out (its copies are slow on Node 20).
      payload = JSON.stringify({ result: { data: config.transformer.output.serialize(outcomes[0]!.data) } });
    } else {
      const json = outcomes.map((item) => (item.ok ? { result: { data: item.data } } : { error: item.shape }));
      const errors = outcomes.map((item) => (item.ok ? null : item.error));
      const body = isBatch ? json : json[0]!;
      status = getHTTPStatusCode(body as never, errors as never);
      payload = JSON.stringify(transformTRPCResponse(config, body as never));
    }
    // A Vary set before (CORS: Origin) is kept beside tRPC's own, as the stock path keeps it.
    const vary = res.getHeader("vary");
    res.writeHead(status, {
      vary: vary === undefined ? TRPC_VARY : `${TRPC_VARY}, ${String(vary)}`,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
    });
    res.end(payload);

    async function run({ path, procedure }: Call, index: number): Promise<Outcome> {
      try {
        const data: unknown = await procedure({
          path,
          getRawInput: async () => readInputs()[index],
          ctx,
          type: procedure._def.type,
          signal: undefined,
          batchIndex: index,
        });
        return { ok: true, data };
      } catch (cause) {
        const error = getTRPCErrorFromUnknown(cause);
        options.onError({ error, path, res });
        const input = inputs !== undefined && "value" in inputs ? inputs.value[index] : undefined;
        return {
          ok: false,
          error,
          shape: getErrorShape({ config, error, type: procedure._def.type, path, input, ctx }),
        };
      }
    }
  }

  function parseInputs(text: string | null, isBatch: boolean, count: number): Record<number, unknown> {
    const inputs: Record<number, unknown> = Object.create(null);
    if (!text) return inputs;
    const parsed: unknown = JSON.parse(text);
    if (!isBatch) {
      inputs[0] = config.transformer.input.deserialize(parsed);
      return inputs;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new TRPCError({ code: "BAD_REQUEST", message: '"input" needs to be an object when doing a batch call' });
    }
    for (let index = 0; index < count; index++) {
      const value = (parsed as Record<number, unknown>)[index];
      if (value !== undefined) inputs[index] = config.transformer.input.deserialize(value);
    }
    return inputs;
  }
}
