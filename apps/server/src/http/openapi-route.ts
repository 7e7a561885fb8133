import type { ServerResponse } from "node:http";
import { openApiJson } from "../openapi/openapi-document.js";

/** The path the OpenAPI document is served at. */
export const OPENAPI_PATH = "/openapi.json";

/** Built on the first request, not at start: most servers never serve it, and it never changes while one runs. */
let document: string | undefined;

/**
 * GET /openapi.json: the API's description, the same bytes as the committed apps/server/openapi.json.
 * Public and free of secrets, so any origin may read it (a documentation viewer on another host).
 */
export function serveOpenApiDocument(res: ServerResponse): void {
  document ??= openApiJson();
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(document),
    "access-control-allow-origin": "*",
  });
  res.end(document);
}
