import { METHODS } from "node:http";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_BATCH_SIZE,
  MAX_HEADER_BYTES,
  type RunningHttpServer,
  startHttpServer,
} from "../../src/http/http-server.js";
import { healthStatus, send, sendRaw } from "./http-client.js";
import {
  checkProperty,
  createTenants,
  PROCEDURE_PATHS,
  PROPERTY_TIMEOUT_MS,
  procedureType,
  schemaAccepts,
  type Tenants,
  tableNames,
  writeFootprint,
} from "./support.js";

// SPEC §6 over the wire: whatever bytes, headers, paths and methods a client sends, the real
// server on a real port answers with a 4xx (a 2xx only for a request that is in fact valid), never
// a 5xx, and keeps serving (GET /health is checked after every test).

/** Both wire handlers the server can run (HTTP_HANDLER): each must hold up on its own. */
const HANDLERS = ["fast", "stock"] as const;
/** A failing HTTP case may cost a timeout each: report the first one found instead of shrinking. */
const NO_SHRINK = { shrink: false };

const MUTATIONS = PROCEDURE_PATHS.filter((path) => procedureType(path) === "mutation");
const QUERIES = PROCEDURE_PATHS.filter((path) => procedureType(path) === "query");

const isJsonText = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const is4xx = (status: number | null) => status !== null && status >= 400 && status <= 499;

/** A batch answer in which every call is an error with a 4xx status. */
function everyItemIs4xxError(body: string): boolean {
  const items = JSON.parse(body) as Array<{ error?: { data?: { httpStatus?: number } } }>;
  return Array.isArray(items) && items.length > 0 && items.every((item) => is4xx(item.error?.data?.httpStatus ?? null));
}

/** A valid token-creation body, as text: the start of the truncations below. */
const VALID_CREATE_BODY = JSON.stringify({
  externalUserId: "user_http",
  email: "http@example.com",
  metadata: { ip: "203.0.113.9" },
});

describe.each(HANDLERS)("the %s handler", (handler) => {
  let t: Tenants;
  let server: RunningHttpServer;
  let port: number;
  let auth: Record<string, string>;

  beforeAll(async () => {
    t = await createTenants();
    server = await startHttpServer({ deps: t.h.deps, port: 0, host: "127.0.0.1", handler });
    port = server.port;
    auth = { authorization: `Bearer ${t.keys["A/test"].secretKey}` };
  });
  afterEach(async () => {
    // The server keeps serving whatever the test threw at it.
    expect(await healthStatus(port)).toBe(200);
  });
  afterAll(async () => {
    await server.close(1_000);
    await t.h.close();
  });

  describe("property: bodies", () => {
    it(
      "malformed JSON bodies (random text, random bytes, truncated JSON) get a 4xx",
      async () => {
        const malformed = fc
          .oneof(
            fc.string({ unit: "binary", maxLength: 300 }),
            fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
            fc.nat({ max: VALID_CREATE_BODY.length - 1 }).map((cut) => VALID_CREATE_BODY.slice(0, cut)),
            fc
              .tuple(fc.jsonValue(), fc.constantFrom("}", "{", ",", "]", "'", "\u0000", " x"))
              .map(([value, junk]) => JSON.stringify(value) + junk),
          )
          .filter((body) => !isJsonText(body));
        await checkProperty(
          `http (${handler}): malformed JSON bodies`,
          fc.asyncProperty(fc.constantFrom(...MUTATIONS), malformed, fc.boolean(), async (path, body, chunked) => {
            // Chunked (no Content-Length) as well as sized: the two may take different paths through the server.
            const headers = {
              ...auth,
              "content-type": "application/json",
              ...(chunked ? { "transfer-encoding": "chunked" } : {}),
            };
            const answer = await send(port, { method: "POST", path: `/trpc/${path}`, headers, body });
            // Refused: a body that is not JSON is the client's mistake (400), never a server failure (500).
            expect(
              is4xx(answer.status),
              `${answer.status} for POST ${path} (${chunked ? "chunked" : "sized"}) ${JSON.stringify(body)}: ${answer.body.slice(0, 200)}`,
            ).toBe(true);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      "random JSON bodies get a 4xx, or a 200 only when the procedure's schema accepts them",
      async () => {
        await checkProperty(
          `http (${handler}): random JSON bodies`,
          fc.asyncProperty(fc.constantFrom(...MUTATIONS), fc.jsonValue({ maxDepth: 3 }), async (path, value) => {
            const body = JSON.stringify(value);
            const answer = await send(port, {
              method: "POST",
              path: `/trpc/${path}`,
              headers: { ...auth, "content-type": "application/json" },
              body,
            });
            expect(answer.status, `${path} ${body}: ${answer.body.slice(0, 200)}`).toBeLessThan(500);
            // Accepted only if valid: the wire applies the same schema as createCaller (session.* refuse a secret key).
            if (answer.status < 400)
              expect(schemaAccepts(path, value) && !path.startsWith("session."), `${path} accepted ${body}`).toBe(true);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      "wrong content types get a 4xx; only application/json (any case, any parameters) is read as JSON",
      async () => {
        const contentType = fc.oneof(
          fc.constantFrom(
            "text/plain",
            "text/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "application/octet-stream",
            "application/xml",
            "application/json-patch+json",
            "application/jsonl",
            "application/json; charset=utf-8",
            "APPLICATION/JSON",
            "",
            ";",
            "*/*",
          ),
          fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,60}$/),
        );
        await checkProperty(
          `http (${handler}): content types`,
          fc.asyncProperty(contentType, async (type) => {
            const before = await writeFootprint(t.h.store, await tableNames(t.h.store));
            const answer = await send(port, {
              method: "POST",
              path: "/trpc/sessionTokens.create",
              headers: { ...auth, "content-type": type },
              body: VALID_CREATE_BODY,
            });
            expect(answer.status, `content-type ${JSON.stringify(type)}: ${answer.body.slice(0, 200)}`).toBeLessThan(
              500,
            );
            const isJson = type.split(";", 1)[0]!.trim().toLowerCase() === "application/json";
            if (answer.status < 400) expect(isJson, `content-type ${JSON.stringify(type)} was read as JSON`).toBe(true);
            // Refused: nothing is stored for a body the server would not read as JSON.
            else expect(await writeFootprint(t.h.store, await tableNames(t.h.store))).toEqual(before);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );
  });

  describe("property: query strings and paths", () => {
    it(
      "random JSON in ?input= gets a 4xx, or a 200 only when the query's schema accepts it",
      async () => {
        await checkProperty(
          `http (${handler}): random JSON ?input=`,
          fc.asyncProperty(fc.constantFrom(...QUERIES), fc.jsonValue({ maxDepth: 3 }), async (path, value) => {
            const answer = await send(port, {
              path: `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(value))}`,
              headers: auth,
            });
            expect(answer.status, `${path} ${JSON.stringify(value)}: ${answer.body.slice(0, 200)}`).toBeLessThan(500);
            if (answer.status < 400)
              expect(
                schemaAccepts(path, value) && !path.startsWith("session."),
                `${path} accepted ${JSON.stringify(value)}`,
              ).toBe(true);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      "malformed ?input= strings (not JSON, bad %-escapes) get a 4xx",
      async () => {
        const malformed = fc
          .oneof(
            fc.string({ unit: "binary", minLength: 1, maxLength: 100 }).map(encodeURIComponent),
            fc.stringMatching(/^[A-Za-z0-9%{}[\]:,"'.+-]{1,40}$/),
          )
          .filter((raw) => {
            try {
              return !isJsonText(decodeURIComponent(raw.replace(/\+/g, " ")));
            } catch {
              return true;
            }
          });
        await checkProperty(
          `http (${handler}): malformed ?input=`,
          fc.asyncProperty(fc.constantFrom(...QUERIES), malformed, async (path, raw) => {
            const answer = await send(port, { path: `/trpc/${path}?input=${raw}`, headers: auth });
            // Refused: an input that is not JSON is a 400, never a 500.
            expect(
              is4xx(answer.status),
              `${answer.status} for GET ${path}?input=${raw}: ${answer.body.slice(0, 200)}`,
            ).toBe(true);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      "invalid batch paths (unknown, empty, prototype names, mixed types, too many calls) get a 4xx",
      async () => {
        const segment = fc.oneof(
          fc.constantFrom(
            ...PROCEDURE_PATHS,
            "",
            "a",
            "sessionTokens",
            "__proto__",
            "constructor",
            "sessionTokens.__proto__",
            "session.get.x",
            ".",
            "%2C",
            "%ZZ",
          ),
          fc.stringMatching(/^[A-Za-z0-9._~%-]{0,20}$/),
        );
        const request = fc.record({
          segments: fc.array(segment, { minLength: 1, maxLength: DEFAULT_MAX_BATCH_SIZE + 4 }),
          method: fc.constantFrom("GET", "POST"),
          batch: fc.constantFrom("?batch=1", "?batch=1", "", "?batch=0", "?batch=true"),
        });
        await checkProperty(
          `http (${handler}): batch paths`,
          fc.asyncProperty(request, async ({ segments, method, batch }) => {
            const path = `/trpc/${segments.join(",")}${batch}`;
            const answer = await send(port, {
              method,
              path,
              headers: { ...auth, ...(method === "POST" ? { "content-type": "application/json" } : {}) },
              body: method === "POST" ? "{}" : undefined,
            });
            // Refused: no call here carries a valid input (nor a session token), so every call fails with a 4xx. tRPC
            // answers a batch whose calls failed with different codes as 207 Multi-Status: then each item must be a 4xx error.
            expect(
              answer.status === 207 ? everyItemIs4xxError(answer.body) : is4xx(answer.status),
              `${answer.status} for ${method} ${path}: ${answer.body.slice(0, 300)}`,
            ).toBe(true);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );
  });

  describe("methods", () => {
    // Every method node's parser knows, other than GET and POST, on API paths and others.
    const OTHER_METHODS = METHODS.filter((method) => method !== "GET" && method !== "POST");
    const PATHS = ["/trpc/sessionTokens.create", "/trpc/sessionTokens.list", "/trpc/nope", "/health", "/elsewhere"];

    it.each(OTHER_METHODS)(
      "%s gets a 4xx on every path (HEAD: an empty 2xx; CONNECT: closed, no tunnel)",
      async (method) => {
        const tables = await tableNames(t.h.store);
        for (const path of PATHS) {
          const before = await writeFootprint(t.h.store, tables);
          const body = VALID_CREATE_BODY;
          const answer = await sendRaw(
            port,
            `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
          );
          if (method === "CONNECT") {
            // Node has no tunnel to offer: without a 'connect' listener it drops the socket without an answer.
            expect(answer.status).toBeNull();
          } else if (method === "HEAD") {
            // HEAD is GET without a body: no procedure runs, nothing comes back but headers.
            expect(
              answer.status === 200 || answer.status === 204 || is4xx(answer.status),
              `HEAD ${path}: ${answer.text.slice(0, 120)}`,
            ).toBe(true);
          } else {
            // Refused: only GET (queries) and POST (mutations) call procedures.
            expect(
              is4xx(answer.status),
              `${method} ${path} → ${answer.text.split("\r\n", 1)[0]} ${answer.text.slice(-200)}`,
            ).toBe(true);
          }
          expect(await writeFootprint(t.h.store, tables), `${method} ${path} wrote to the database`).toEqual(before);
        }
      },
    );

    it(
      "property: unknown method tokens get a 4xx",
      async () => {
        const method = fc.stringMatching(/^[A-Z][A-Z-]{0,11}$/).filter((candidate) => !METHODS.includes(candidate));
        await checkProperty(
          `http (${handler}): unknown methods`,
          fc.asyncProperty(method, async (candidate) => {
            const answer = await sendRaw(
              port,
              `${candidate} /trpc/sessionTokens.list HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
            );
            // Refused by the HTTP parser: not a method this server speaks.
            expect(is4xx(answer.status), `${candidate} → ${answer.text.slice(0, 100)}`).toBe(true);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );
  });

  describe("property: headers and raw bytes", () => {
    it(
      "random header sets: over 16 KiB of headers get 431, smaller ones are served normally",
      async () => {
        const headerSet = fc.array(
          fc.record({
            name: fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
            size: fc.oneof(fc.nat({ max: 200 }), fc.nat({ max: 9_000 })),
          }),
          { maxLength: 6 },
        );
        await checkProperty(
          `http (${handler}): header sizes`,
          fc.asyncProperty(headerSet, async (set) => {
            const headers: Record<string, string> = { ...auth };
            for (const { name, size } of set) headers[name] = "v".repeat(size);
            const bytes = Object.entries(headers).reduce(
              (sum, [name, value]) => sum + name.length + value.length + 4,
              0,
            );
            const answer = await send(port, {
              path: `/trpc/sessionTokens.list?input=${encodeURIComponent(JSON.stringify({ externalUserId: "user_1" }))}`,
              headers,
              reuseConnection: false,
            });
            // Refused above the limit (431); a margin of 1 KiB either side absorbs the request line and node's own headers.
            if (bytes > MAX_HEADER_BYTES + 1024) expect(answer.status, `${bytes} bytes of headers`).toBe(431);
            else if (bytes < MAX_HEADER_BYTES - 1024) expect(answer.status, `${bytes} bytes of headers`).toBe(200);
            else expect([200, 431]).toContain(answer.status);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      "random Authorization header values get 401, never a 5xx",
      async () => {
        const value = fc.oneof(
          fc.stringMatching(/^[\x20-\x7e]{0,200}$/),
          fc.stringMatching(/^Bearer [\x21-\x7e]{0,120}$/),
        );
        await checkProperty(
          `http (${handler}): random Authorization`,
          fc.asyncProperty(value, async (authorization) => {
            const answer = await send(port, {
              path: `/trpc/sessionTokens.list?input=${encodeURIComponent(JSON.stringify({ externalUserId: "user_1" }))}`,
              headers: { authorization },
            });
            // Refused: only an issued, unrevoked secret key authenticates.
            expect(answer.status, `${JSON.stringify(authorization)}: ${answer.body.slice(0, 200)}`).toBe(401);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      "random bytes on a connection get a 4xx or a closed connection, never a 5xx",
      async () => {
        const garbage = fc.oneof(
          fc
            .uint8Array({ minLength: 1, maxLength: 400 })
            .map((bytes) => Buffer.concat([Buffer.from(bytes), Buffer.from("\r\n\r\n")])),
          // A plausible request line with a damaged tail.
          fc
            .tuple(fc.constantFrom("GET", "POST", "PUT"), fc.string({ unit: "binary", maxLength: 80 }))
            .map(([method, tail]) =>
              Buffer.from(
                `${method} /trpc/sessionTokens.list${tail} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
                "latin1",
              ),
            ),
        );
        await checkProperty(
          `http (${handler}): raw bytes`,
          fc.asyncProperty(garbage, async (bytes) => {
            const answer = await sendRaw(port, bytes, 2_000);
            // Refused: bytes that are not HTTP get 400 from the parser (or the socket closed); never a server error.
            expect(
              answer.status === null || answer.status < 500,
              `${answer.text.slice(0, 100)} for ${JSON.stringify(bytes.toString("latin1").slice(0, 80))}`,
            ).toBe(true);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );
  });

  describe("named bad requests", () => {
    // Each is refused with a 4xx: the shapes the issue names, checked one by one for a readable failure.
    const cases: Array<[string, () => Promise<number | null>]> = [
      // Empty and unknown procedure names inside a batch.
      [
        "GET /trpc/a,b,,c?batch=1",
        async () => (await send(port, { path: "/trpc/a,b,,c?batch=1", headers: auth })).status,
      ],
      [
        "POST /trpc/a,b,,c?batch=1",
        async () =>
          (
            await send(port, {
              method: "POST",
              path: "/trpc/a,b,,c?batch=1",
              headers: { ...auth, "content-type": "application/json" },
              body: "{}",
            })
          ).status,
      ],
      // A procedure that does not exist.
      ["GET /trpc/nope", async () => (await send(port, { path: "/trpc/nope", headers: auth })).status],
      // A router, not a procedure.
      [
        "GET /trpc/sessionTokens",
        async () => (await send(port, { path: "/trpc/sessionTokens", headers: auth })).status,
      ],
      // Commas without ?batch=1 name one (unknown) procedure.
      [
        "GET /trpc/sessionTokens.list,sessionTokens.list",
        async () => (await send(port, { path: "/trpc/sessionTokens.list,sessionTokens.list", headers: auth })).status,
      ],
      // Eleven calls: one over the batch cap.
      [
        "GET 11 calls in a batch",
        async () =>
          (
            await send(port, {
              path: `/trpc/${Array(DEFAULT_MAX_BATCH_SIZE + 1)
                .fill("sessionTokens.list")
                .join(",")}?batch=1&input={}`,
              headers: auth,
            })
          ).status,
      ],
      // A batch input that is not an object.
      [
        "GET batch input [1,2]",
        async () =>
          (await send(port, { path: "/trpc/sessionTokens.list,sessionTokens.list?batch=1&input=[1,2]", headers: auth }))
            .status,
      ],
      // Malformed JSON in ?input=.
      [
        "GET ?input=%7B",
        async () => (await send(port, { path: "/trpc/sessionTokens.list?input=%7B", headers: auth })).status,
      ],
      // A bad %-escape in ?input=.
      [
        "GET ?input=%ZZ",
        async () => (await send(port, { path: "/trpc/sessionTokens.list?input=%ZZ", headers: auth })).status,
      ],
      // Malformed JSON body.
      [
        "POST body {",
        async () =>
          (
            await send(port, {
              method: "POST",
              path: "/trpc/sessionTokens.create",
              headers: { ...auth, "content-type": "application/json" },
              body: "{",
            })
          ).status,
      ],
      // A whitespace-only body.
      [
        "POST body of spaces",
        async () =>
          (
            await send(port, {
              method: "POST",
              path: "/trpc/sessionTokens.create",
              headers: { ...auth, "content-type": "application/json" },
              body: "   ",
            })
          ).status,
      ],
      // A mutation over GET, a query over POST.
      [
        "GET a mutation",
        async () => (await send(port, { path: "/trpc/sessionTokens.create?input={}", headers: auth })).status,
      ],
      [
        "POST a query",
        async () =>
          (
            await send(port, {
              method: "POST",
              path: "/trpc/sessionTokens.list",
              headers: { ...auth, "content-type": "application/json" },
              body: "{}",
            })
          ).status,
      ],
      // Bad %-encoding in the procedure path.
      [
        "GET /trpc/%E0%A4%A",
        async () => (await sendRaw(port, `GET /trpc/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).status,
      ],
      // No Host header in HTTP/1.1.
      [
        "GET without Host",
        async () => (await sendRaw(port, `GET /health HTTP/1.1\r\nConnection: close\r\n\r\n`)).status,
      ],
      // Two Content-Length headers (request smuggling shape).
      [
        "POST with two Content-Length",
        async () =>
          (
            await sendRaw(
              port,
              `POST /trpc/sessionTokens.create HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
            )
          ).status,
      ],
      // A damaged chunked body.
      [
        "POST with a bad chunk size",
        async () =>
          (
            await sendRaw(
              port,
              `POST /trpc/sessionTokens.create HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n`,
            )
          ).status,
      ],
    ];

    it.each(cases)("%s → 4xx", async (_name, request) => {
      const status = await request();
      expect(is4xx(status), `status ${status}`).toBe(true);
    });
  });
});
