import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { buildOpenApiDocument } from "../../src/openapi/openapi-document.js";

/**
 * Checks real HTTP answers against the OpenAPI document: the status must be one the operation
 * documents, and the body must validate (JSON Schema 2020-12, with formats) against the schema the
 * document gives for that status, with the headers it requires (Retry-After on 429 and 503).
 */

type Json = Record<string, unknown>;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

const DOCUMENT_ID = "https://billingos.invalid/openapi.json";

/** A JSON Pointer token: "~" and "/" escaped. */
const pointerToken = (token: string) => token.replaceAll("~", "~0").replaceAll("/", "~1");

export function createContract(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (formats as unknown as { default: (ajv: Ajv2020) => void }).default(ajv);
  ajv.addSchema(document, DOCUMENT_ID);
  const validators = new Map<string, ValidateFunction>();
  /** Every (operation, status) an answer was checked for: what the suite covered. */
  const seen = new Set<string>();

  const at = (pointer: string): unknown =>
    pointer
      .split("/")
      .slice(1)
      .reduce<unknown>(
        (node, token) => (node as Json | undefined)?.[token.replaceAll("~1", "/").replaceAll("~0", "~")],
        document,
      );

  /** Follows a response's `$ref` (#/components/responses/…) to the response and its pointer. */
  function resolveResponse(pointer: string): { pointer: string; response: Json } | undefined {
    const response = at(pointer) as Json | undefined;
    if (response === undefined) return undefined;
    const ref = response.$ref;
    return typeof ref === "string"
      ? { pointer: ref.slice(1), response: at(ref.slice(1)) as Json }
      : { pointer, response };
  }

  /** What is wrong with `answer` as the answer of `method path` (an empty list: it conforms). */
  function problems(path: string, method: "get" | "post", answer: Answer): string[] {
    const operationPointer = `/paths/${pointerToken(path)}/${method}`;
    if (at(operationPointer) === undefined) return [`the document has no ${method.toUpperCase()} ${path}`];
    const resolved = resolveResponse(`${operationPointer}/responses/${answer.status}`);
    if (resolved === undefined)
      return [`${method.toUpperCase()} ${path} does not document status ${answer.status}: ${answer.text}`];
    seen.add(`${path} ${answer.status}`);
    const found: string[] = [];
    const content = resolved.response.content as Json | undefined;
    if (content === undefined) {
      if (answer.text !== "") found.push(`status ${answer.status} documents no body, got ${answer.text}`);
    } else {
      const contentType = answer.headers.get("content-type")?.split(";")[0];
      if (contentType === undefined || !(contentType in content))
        found.push(`content-type ${contentType} is not documented`);
      const mediaType = contentType !== undefined && contentType in content ? contentType : "application/json";
      const schemaPointer = `${resolved.pointer}/content/${pointerToken(mediaType)}/schema`;
      let validate = validators.get(schemaPointer);
      if (validate === undefined) {
        validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${schemaPointer}` });
        validators.set(schemaPointer, validate);
      }
      let body: unknown;
      try {
        body = JSON.parse(answer.text);
      } catch {
        return [...found, `the body is not JSON: ${answer.text}`];
      }
      if (!validate(body)) found.push(`body ${answer.text} does not validate: ${ajv.errorsText(validate.errors)}`);
    }
    for (const [name, header] of Object.entries((resolved.response.headers as Json | undefined) ?? {})) {
      const definition = (
        (header as Json).$ref === undefined ? header : at(((header as Json).$ref as string).slice(1))
      ) as Json;
      const value = answer.headers.get(name);
      if (value === null) {
        if (definition.required === true) found.push(`header ${name} is missing`);
        continue;
      }
      if (!ajv.validate(definition.schema as Json, Number(value)))
        found.push(`header ${name}: ${value} does not validate`);
    }
    return found;
  }

  /**
   * The problems of an answer to a request as sent (any method, any URL), or null when the
   * document does not describe the request: a batch (?batch=1), an unknown path, OPTIONS or HEAD.
   * A 405 is checked against the operation the path has (the method sent has none).
   */
  function problemsOfRequest(method: string, url: URL, answer: Answer): string[] | null {
    if ((method !== "GET" && method !== "POST") || url.searchParams.get("batch") === "1") return null;
    const path = decodeURIComponent(url.pathname);
    const item = (document.paths as Record<string, Record<string, unknown>> | undefined)?.[path];
    if (item === undefined) return null;
    const sent = method.toLowerCase() as "get" | "post";
    const documented = sent in item ? sent : answer.status === 405 ? (Object.keys(item)[0] as "get" | "post") : sent;
    return problems(path, documented, answer);
  }

  return { problems, problemsOfRequest, seen };
}

/** The checker for the document this server generates now (the committed one is checked equal to it). */
export function contractOfThisServer() {
  return createContract(buildOpenApiDocument());
}
