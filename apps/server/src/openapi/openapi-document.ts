import { createRequire } from "node:module";
import { errorCode, errorData, timestamp } from "@billingos/contracts";
import type { AnyTRPCProcedure } from "@trpc/server";
import { z } from "zod";
import { TRPC_BASE_PATH } from "../http/trpc-base-path.js";
import { appRouter } from "../trpc/router.js";
import { ERROR_CODE_DOCS, type ErrorCodeDoc } from "./error-responses.js";
import { PROCEDURE_DOCS, type ProcedureDoc } from "./procedure-docs.js";

/**
 * The OpenAPI 3.1 description of the HTTP API, built from the router (procedure kinds and the very
 * input schemas the server parses with) and the contracts' zod schemas (z.toJSONSchema, wire form:
 * timestamps are ISO 8601 strings). It describes tRPC's own HTTP shape rather than REST routes
 * beside it: a query is GET /trpc/<procedure>?input=<URL-encoded JSON>, a mutation is
 * POST /trpc/<procedure> with a JSON body, and every answer is an envelope.
 */

type Json = Record<string, unknown>;

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const responseRef = (doc: ErrorCodeDoc) => ({ $ref: `#/components/responses/${doc.responseName}` });

/** Refusals every call can get, and those every mutation (a POST with a body) can get besides. */
const EVERY_CALL = [
  "BAD_REQUEST",
  "UNAUTHORIZED",
  "METHOD_NOT_SUPPORTED",
  "INTERNAL_SERVER_ERROR",
  "SERVICE_UNAVAILABLE",
] as const;
const EVERY_MUTATION = ["PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "TOO_MANY_REQUESTS"] as const;

const DESCRIPTION = `The BillingOS session-token service over HTTP, usable from any language.

## Calling a procedure

The API is tRPC v11 over HTTP, plain JSON (no transformer). Each procedure is one path under \`${TRPC_BASE_PATH}/\`:

- a **query** is \`GET ${TRPC_BASE_PATH}/<procedure>?input=<input>\`, where \`<input>\` is the input as JSON, then
  percent-encoded (for example \`?input=%7B%22externalUserId%22%3A%22user_123%22%7D\`); a procedure without input takes no \`input\`;
- a **mutation** is \`POST ${TRPC_BASE_PATH}/<procedure>\` with \`Content-Type: application/json\` (415 without it) and the input as
  the body; a procedure without input takes no body, or \`{}\`.

Unknown fields are refused (400), never ignored. Times are ISO 8601 UTC strings (\`2026-01-01T12:00:00.000Z\`).

## Answers

Success: \`200\` and \`{"result":{"data": <answer>}}\`.

Error: the status below and \`{"error":{"message": <text a person can act on>, "code": <JSON-RPC number>,
"data":{"code": <error code>, "httpStatus": <status>, "path": <procedure>, …}}}\`. A validation error adds
\`data.fieldErrors\` (field → messages) and \`data.formErrors\`; a 429 or 503 adds \`data.retryAfterSeconds\`
and the \`Retry-After\` header (seconds): wait that long, then retry.

| error code | HTTP status | JSON-RPC code | meaning |
|---|---|---|---|
${ERROR_CODE_DOCS.map((doc) => `| \`${doc.code}\` | ${doc.httpStatus} | ${doc.jsonRpcCode} | ${doc.meaning} |`).join("\n")}

A request that does not arrive in time is closed with a bare \`408\` (no body).

## Authentication

- Merchant API (every procedure but \`session.*\`): \`Authorization: Bearer sk_test_…\` or \`sk_live_…\`, a secret key,
  from a server only. The key's environment decides which data the call sees.
- Customer-facing API (\`session.*\`): \`Authorization: Bearer bos_session_test_…\` or \`bos_session_live_…\`, a session
  token created by the merchant; each procedure needs one operation the token must be scoped to (403 otherwise).
  Browsers may call these from the origins in CORS_ORIGINS.

## Batching

tRPC's batch form (\`?batch=1\`, procedures joined by commas, inputs keyed by index) is accepted and answers an array of
the envelopes above; a client in another language has no need of it.`;

function procedureInput(procedure: AnyTRPCProcedure): z.ZodType {
  const inputs = (procedure._def as { inputs: unknown[] }).inputs;
  const input = inputs[0];
  if (inputs.length !== 1 || !(input instanceof z.ZodType)) throw new Error("Each procedure has one zod input schema");
  return input;
}

/** Whether the procedure may be called without input (its schema takes undefined). */
function inputIsOptional(input: z.ZodType): boolean {
  return input.safeParse(undefined).success;
}

/** The contracts' schemas, named, as JSON Schema (their wire form), each shared one referenced by name. */
function componentSchemas(procedures: Record<string, AnyTRPCProcedure>): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [path, doc] of Object.entries(PROCEDURE_DOCS)) {
    registry.add(procedureInput(procedures[path]!), { id: doc.inputName });
    if (!registry.has(doc.output)) registry.add(doc.output, { id: doc.outputName });
  }
  registry.add(errorCode, { id: "ErrorCode" });
  registry.add(timestamp, { id: "Timestamp" });
  const { schemas } = z.toJSONSchema(registry, {
    io: "input",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  });
  const named: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as Json;
    named[name] = rest;
  }
  return named;
}

/** The error `data`: the contracts' shape, with the code one of the API's and nothing else in it. */
function errorDataSchema(): Json {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(errorData, { io: "input" }) as Json;
  const properties = schema.properties as Json;
  return {
    ...schema,
    description:
      "Beside tRPC's `code` and `httpStatus`: the procedure's `path`, field errors for bad input, and the wait for 429 and 503.",
    properties: { ...properties, code: schemaRef("ErrorCode"), httpStatus: { type: "integer" } },
    required: ["code", "httpStatus"],
    additionalProperties: false,
  };
}

const ERROR_ENVELOPE: Json = {
  type: "object",
  description: "Every error answer.",
  properties: {
    error: {
      type: "object",
      properties: {
        message: { type: "string", description: "What went wrong, in words a person can act on." },
        code: { type: "integer", description: "tRPC's JSON-RPC 2.0 error number (see the table in the description)." },
        data: schemaRef("ErrorData"),
      },
      required: ["message", "code", "data"],
      additionalProperties: false,
    },
  },
  required: ["error"],
  additionalProperties: false,
};

function errorResponse(doc: ErrorCodeDoc): Json {
  const exact: Json = {
    properties: {
      error: {
        properties: {
          code: { const: doc.jsonRpcCode },
          data: { properties: { code: { const: doc.code }, httpStatus: { const: doc.httpStatus } } },
        },
      },
    },
  };
  if (doc.retryAfter) {
    (exact.properties as { error: { properties: { data: Json } } }).error.properties.data.required = [
      "retryAfterSeconds",
    ];
  }
  const schema = { allOf: [schemaRef("ErrorEnvelope"), exact] };
  return {
    description: `\`${doc.code}\`: ${doc.meaning}`,
    ...(doc.retryAfter ? { headers: { "Retry-After": { $ref: "#/components/headers/RetryAfter" } } } : {}),
    content: { "application/json": { schema } },
  };
}

function successResponse(doc: ProcedureDoc): Json {
  return {
    description: '`{"result":{"data": …}}`',
    content: {
      "application/json": {
        schema: {
          type: "object",
          properties: {
            result: {
              type: "object",
              properties: { data: schemaRef(doc.outputName) },
              required: ["data"],
              additionalProperties: false,
            },
          },
          required: ["result"],
          additionalProperties: false,
        },
      },
    },
  };
}

function operation(
  path: string,
  doc: ProcedureDoc,
  procedure: AnyTRPCProcedure,
): { method: "get" | "post"; operation: Json } {
  const type = procedure._def.type;
  if (type !== "query" && type !== "mutation") throw new Error(`${path}: only queries and mutations are described`);
  const optional = inputIsOptional(procedureInput(procedure));
  const codes = [
    ...EVERY_CALL,
    ...(type === "mutation" ? EVERY_MUTATION : []),
    ...(doc.errors ?? []),
    ...(doc.idempotent ? (["CONFLICT"] as const) : []),
  ];
  const responses: Json = { "200": successResponse(doc) };
  for (const errorDoc of ERROR_CODE_DOCS.filter((candidate) => codes.includes(candidate.code))) {
    responses[String(errorDoc.httpStatus)] = responseRef(errorDoc);
  }
  const auth =
    doc.auth.kind === "secretKey"
      ? { security: [{ secretKey: [] }] }
      : { security: [{ sessionToken: [] }], "x-billingos-operation": doc.auth.operation };
  const common = {
    operationId: path,
    tags: [path.split(".")[0]],
    summary: doc.summary,
    ...(doc.description === undefined ? {} : { description: doc.description }),
    ...auth,
  };
  const content = { "application/json": { schema: schemaRef(doc.inputName) } };
  if (type === "query") {
    return {
      method: "get",
      operation: {
        ...common,
        parameters: [
          {
            name: "input",
            in: "query",
            required: !optional,
            description: "The input as JSON, percent-encoded.",
            content,
          },
        ],
        responses,
      },
    };
  }
  const parameters = doc.idempotent ? { parameters: [{ $ref: "#/components/parameters/IdempotencyKey" }] } : {};
  return {
    method: "post",
    operation: { ...common, ...parameters, requestBody: { required: !optional, content }, responses },
  };
}

export function buildOpenApiDocument(): Json {
  const procedures = appRouter._def.procedures as unknown as Record<string, AnyTRPCProcedure>;
  const undocumented = Object.keys(procedures).filter((path) => !Object.hasOwn(PROCEDURE_DOCS, path));
  const unknown = Object.keys(PROCEDURE_DOCS).filter((path) => !Object.hasOwn(procedures, path));
  if (undocumented.length > 0 || unknown.length > 0) {
    throw new Error(
      `procedure-docs.ts and the router disagree: undocumented ${undocumented.join(", ") || "none"}; unknown ${unknown.join(", ") || "none"}`,
    );
  }

  const paths: Json = {};
  for (const [path, doc] of Object.entries(PROCEDURE_DOCS)) {
    const { method, operation: described } = operation(path, doc, procedures[path]!);
    paths[`${TRPC_BASE_PATH}/${path}`] = { [method]: described };
  }
  paths["/health"] = {
    get: {
      operationId: "health",
      tags: ["service"],
      summary: "Whether the server and its database answer",
      security: [],
      responses: {
        "200": { description: "Up.", content: { "application/json": { schema: schemaRef("Health") } } },
        "503": {
          description: "The database does not answer.",
          headers: { "Retry-After": { $ref: "#/components/headers/RetryAfter" } },
          content: { "application/json": { schema: schemaRef("Health") } },
        },
      },
    },
  };
  paths["/openapi.json"] = {
    get: {
      operationId: "openapi",
      tags: ["service"],
      summary: "This document",
      security: [],
      responses: {
        "200": {
          description: "The OpenAPI 3.1 document.",
          content: { "application/json": { schema: { type: "object" } } },
        },
      },
    },
  };

  const responses: Json = {};
  for (const doc of ERROR_CODE_DOCS) {
    if (doc.code !== "TIMEOUT") responses[doc.responseName] = errorResponse(doc);
  }

  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: { title: "BillingOS API", version, description: DESCRIPTION },
    servers: [
      { url: "/", description: "The server this document is served by" },
      { url: "http://localhost:4000", description: "A local server started with `pnpm start`" },
    ],
    tags: [
      { name: "sessionTokens", description: "Merchant API: session tokens (secret key)." },
      { name: "customers", description: "Merchant API: imported Stripe customers (secret key)." },
      { name: "audit", description: "Merchant API: the audit log (secret key)." },
      { name: "session", description: "Customer-facing API, called from browsers (session token)." },
      { name: "service", description: "Health and this document (no credential)." },
    ],
    paths,
    components: {
      securitySchemes: {
        secretKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "sk_test_… or sk_live_…",
          description: "A secret key, for the merchant API; created by the admin CLI. Never send it to a browser.",
        },
        sessionToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "bos_session_test_… or bos_session_live_…",
          description:
            "A session token, for the customer-facing session.* procedures; created with sessionTokens.create.",
        },
      },
      parameters: {
        IdempotencyKey: {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description:
            "A new random key (a UUID) per operation, sent again with its retries: the same key and input within 24 hours " +
            "answers the first answer again without doing the work twice; the same key with other input (or on another " +
            "procedure) is 409 CONFLICT. Scoped to the secret key's organization and environment; only successes are recorded. " +
            "Refused (400) on a batch of several calls.",
          schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x20-\\x7E]+$" },
        },
      },
      headers: {
        RetryAfter: {
          description: "Seconds to wait before retrying (the same as `error.data.retryAfterSeconds`).",
          required: true,
          schema: { type: "integer", minimum: 1 },
        },
      },
      responses,
      schemas: {
        ...componentSchemas(procedures),
        ErrorData: errorDataSchema(),
        ErrorEnvelope: ERROR_ENVELOPE,
        Health: {
          type: "object",
          properties: {
            status: { type: "string", enum: ["ok", "unavailable"] },
            engine: { type: "string", enum: ["sqlite", "postgres"] },
          },
          required: ["status", "engine"],
          additionalProperties: false,
        },
      },
    },
  };
}

/** The document as committed and served: two-space JSON and a final newline. */
export function openApiJson(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}
