import { readFileSync } from "node:fs";
import { errorCode } from "@billingos/contracts";
import { compileErrors, validate } from "@readme/openapi-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { openApiJson } from "../../src/openapi/openapi-document.js";
import { appRouter } from "../../src/trpc/router.js";
import { createHarness, type Harness } from "../harness.js";

const COMMITTED = new URL("../../openapi.json", import.meta.url);
const generated = openApiJson();
const document = JSON.parse(generated) as {
  openapi: string;
  info: { description: string };
  paths: Record<
    string,
    Record<
      string,
      { security: unknown[]; parameters?: unknown[]; requestBody?: unknown; responses: Record<string, unknown> }
    >
  >;
  components: { securitySchemes: Record<string, { scheme: string; bearerFormat: string }> };
};

describe("the committed OpenAPI document", () => {
  it("is what the contracts and the router generate today (run `pnpm openapi` after changing either)", () => {
    const committed = readFileSync(COMMITTED, "utf8");
    // A plain comparison first: the diff vitest prints for 90 KB of JSON is not the useful part.
    if (committed !== generated) {
      expect.fail("apps/server/openapi.json is stale: run `pnpm openapi` and commit the result");
    }
  });

  it("is a valid OpenAPI 3.1 document (@readme/openapi-parser)", async () => {
    const result = await validate(JSON.parse(generated) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    expect(document.openapi).toBe("3.1.0");
  });
});

describe("what the document states", () => {
  it("has one operation per procedure: GET with ?input= for queries, POST with a JSON body for mutations", () => {
    const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
    expect(
      Object.keys(document.paths)
        .filter((path) => path.startsWith("/trpc/"))
        .sort(),
    ).toEqual(
      Object.keys(procedures)
        .map((path) => `/trpc/${path}`)
        .sort(),
    );
    for (const [path, procedure] of Object.entries(procedures)) {
      const item = document.paths[`/trpc/${path}`]!;
      if (procedure._def.type === "query") {
        expect(Object.keys(item)).toEqual(["get"]);
        expect(item.get!.parameters).toEqual([
          expect.objectContaining({ name: "input", in: "query", content: expect.any(Object) }),
        ]);
      } else {
        expect(Object.keys(item)).toEqual(["post"]);
        expect(item.post!.requestBody).toMatchObject({ content: { "application/json": expect.any(Object) } });
      }
    }
  });

  it("names a bearer scheme for each API: sk_… for the merchant API, bos_session_… for session.*", () => {
    expect(document.components.securitySchemes.secretKey).toMatchObject({
      scheme: "bearer",
      bearerFormat: expect.stringContaining("sk_test_"),
    });
    expect(document.components.securitySchemes.sessionToken).toMatchObject({
      scheme: "bearer",
      bearerFormat: expect.stringContaining("bos_session_"),
    });
    for (const [path, item] of Object.entries(document.paths)) {
      if (!path.startsWith("/trpc/")) continue;
      const [operation] = Object.values(item);
      expect(operation!.security, path).toEqual([
        { [path.startsWith("/trpc/session.") ? "sessionToken" : "secretKey"]: [] },
      ]);
    }
  });

  it("lists every error code with its HTTP status, and Retry-After on 429 and 503", () => {
    const table = document.info.description;
    const expected: Record<string, number> = {
      BAD_REQUEST: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      PAYLOAD_TOO_LARGE: 413,
      TOO_MANY_REQUESTS: 429,
      METHOD_NOT_SUPPORTED: 405,
      UNSUPPORTED_MEDIA_TYPE: 415,
      TIMEOUT: 408,
      SERVICE_UNAVAILABLE: 503,
      INTERNAL_SERVER_ERROR: 500,
    };
    expect(Object.keys(expected).sort()).toEqual([...errorCode.options].sort());
    for (const [code, status] of Object.entries(expected)) expect(table).toContain(`| \`${code}\` | ${status} |`);
    const responses = (JSON.parse(generated) as { components: { responses: Record<string, { headers?: object }> } })
      .components.responses;
    expect(responses.TooManyRequests!.headers).toHaveProperty("Retry-After");
    expect(responses.ServiceUnavailable!.headers).toHaveProperty("Retry-After");
    expect(responses.Unauthorized!.headers).toBeUndefined();
    expect(table).toContain('{"result":{"data": <answer>}}');
    expect(table).toContain("?input=");
  });
});

describe("the README's section for callers in other languages", () => {
  it("shows a curl call of every procedure and an answer of each", () => {
    const readme = readFileSync(new URL("../../../../README.md", import.meta.url), "utf8");
    const section = readme.split("\n## Without TypeScript\n")[1]?.split("\n## ")[0] ?? "";
    const procedures = Object.keys(appRouter._def.procedures as object);
    for (const procedure of procedures)
      expect(section, procedure).toMatch(
        new RegExp(`curl [^\n]*\\$BILLINGOS_URL/trpc/${procedure.replace(".", "\\.")} `),
      );
    expect(section).toContain('{"result":{"data":');
    expect(section).toContain('{"error":{"message":');
    expect(section).toContain("retry-after:");
  });
});

describe("GET /openapi.json", () => {
  let h: Harness;
  let server: RunningHttpServer;
  beforeAll(async () => {
    h = await createHarness();
    server = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => {
    await server.close(500);
    await h.close();
  });

  it("serves the committed document, to any origin, without a credential", async () => {
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(await response.text()).toBe(readFileSync(COMMITTED, "utf8"));
  });

  it("answers HEAD with the headers only, and other methods with 404", async () => {
    const head = await fetch(`${server.url}/openapi.json`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBe(Buffer.byteLength(generated));
    expect(await head.text()).toBe("");
    expect((await fetch(`${server.url}/openapi.json`, { method: "POST" })).status).toBe(404);
  });
});
