import { isUtf8 } from "node:buffer";
import { Writable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { createLogger } from "../../src/shared/logger.js";
import { openRequest, postHead } from "../http/raw-exchange.js";
import { send, sendRaw } from "./http-client.js";
import {
  checkProperty,
  createTenants,
  PROPERTY_TIMEOUT_MS,
  type Tenants,
  tableNames,
  writeFootprint,
} from "./support.js";

// Issue items 8 (bytes), 10 and 11 over the wire, on both handlers:
// - a body or a ?input= that is not well-formed UTF-8 is refused (400), never decoded with U+FFFD
//   (which made two byte-different user ids one user);
// - a hostile Host header gets a 4xx, never a 500 echoing the URL and logging a stack;
// - every response carries Cache-Control: no-store and X-Content-Type-Options: nosniff.

const HANDLERS = ["fast", "stock"] as const;
const NO_SHRINK = { shrink: false };
const NOT_UTF8_BODY = "Request body is not valid UTF-8";
const NOT_UTF8_QUERY = "Request input (the query string) is not valid UTF-8";

/** Byte strings that are not well-formed UTF-8: stray continuation bytes, truncated sequences, overlongs, surrogates, > U+10FFFF. */
const illFormedBytes = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 12 }),
    fc
      .constantFrom(
        [0xff],
        [0xc0, 0xaf],
        [0xe0, 0x80, 0xaf],
        [0xed, 0xa0, 0x80],
        [0xf4, 0x90, 0x80, 0x80],
        [0xe2, 0x82],
        [0x80],
      )
      .map((bytes) => Uint8Array.from(bytes)),
  )
  .map((bytes) => Buffer.from(bytes))
  .filter((bytes) => !isUtf8(bytes));

const percentEncoded = (bytes: Buffer) =>
  [...bytes].map((byte) => `%${byte.toString(16).padStart(2, "0").toUpperCase()}`).join("");

describe.each(HANDLERS)("the %s handler", (handler) => {
  let t: Tenants;
  let server: RunningHttpServer;
  let port: number;
  let auth: Record<string, string>;
  /** Every log line the server wrote, parsed. */
  const logLines: Array<{ level: number; msg?: string }> = [];

  beforeAll(async () => {
    t = await createTenants();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean))
          logLines.push(JSON.parse(line) as { level: number });
        done();
      },
    });
    const logger = createLogger("debug", sink);
    server = await startHttpServer({
      deps: { ...t.h.deps, logger },
      port: 0,
      host: "127.0.0.1",
      handler,
      corsOrigins: ["http://app.example"],
    });
    port = server.port;
    auth = { authorization: `Bearer ${t.keys["A/test"].secretKey}` };
  });
  afterAll(async () => {
    await server.close(1_000);
    await t.h.close();
  });

  describe("ill-formed UTF-8", () => {
    it(
      "property: a body with ill-formed UTF-8 in a user id gets 400 and stores nothing (sized and chunked)",
      async () => {
        await checkProperty(
          `wire (${handler}): ill-formed UTF-8 bodies`,
          fc.asyncProperty(illFormedBytes, fc.boolean(), async (bytes, chunked) => {
            const tables = await tableNames(t.h.store);
            const before = await writeFootprint(t.h.store, tables);
            const body = Buffer.concat([Buffer.from('{"externalUserId":"user_'), bytes, Buffer.from('"}')]);
            const headers = {
              ...auth,
              "content-type": "application/json",
              ...(chunked ? { "transfer-encoding": "chunked" } : {}),
            };
            const answer = await send(port, { method: "POST", path: "/trpc/sessionTokens.create", headers, body });
            // Refused: decoding would have replaced the bytes with U+FFFD, making this user another one.
            expect(answer.status, `${percentEncoded(bytes)}: ${answer.body}`).toBe(400);
            expect(JSON.parse(answer.body).error).toMatchObject({
              message: NOT_UTF8_BODY,
              data: { code: "BAD_REQUEST", httpStatus: 400 },
            });
            expect(await writeFootprint(t.h.store, tables)).toEqual(before);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      "property: a ?input= whose percent-decoding is ill-formed UTF-8 gets 400",
      async () => {
        await checkProperty(
          `wire (${handler}): ill-formed UTF-8 ?input=`,
          fc.asyncProperty(illFormedBytes, async (bytes) => {
            const input = `${encodeURIComponent('{"externalUserId":"user_')}${percentEncoded(bytes)}${encodeURIComponent('"}')}`;
            const answer = await send(port, { path: `/trpc/sessionTokens.list?input=${input}`, headers: auth });
            // Refused: URLSearchParams would have turned the bytes into U+FFFD.
            expect(answer.status, `${input}: ${answer.body}`).toBe(400);
            expect(JSON.parse(answer.body).error).toMatchObject({
              message: NOT_UTF8_QUERY,
              data: { code: "BAD_REQUEST", path: "sessionTokens.list" },
            });
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it(
      "property: well-formed UTF-8 (any code point) in a ?input= or a body is not refused for its encoding",
      async () => {
        await checkProperty(
          `wire (${handler}): well-formed UTF-8`,
          fc.asyncProperty(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), async (text) => {
            const input = encodeURIComponent(JSON.stringify({ externalUserId: `user_${text}` }));
            const listed = await send(port, { path: `/trpc/sessionTokens.list?input=${input}`, headers: auth });
            expect(listed.body).not.toContain("not valid UTF-8");
            const verified = await send(port, {
              method: "POST",
              path: "/trpc/sessionTokens.verify",
              headers: { ...auth, "content-type": "application/json" },
              body: JSON.stringify({ sessionToken: `bos_session_test_${text}` }),
            });
            expect(verified.status, verified.body).toBe(200);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );
  });

  describe("hostile Host headers", () => {
    const MARKER = "qmarker7";
    const hostileHost = fc.oneof(
      fc.constantFrom(
        "a@b",
        "user:pass@host",
        "@",
        "a@b:80",
        "a@[::1]",
        "[::1",
        "[::1]x",
        "host:99999999",
        "host:port",
        "a/b",
        "a?b",
        "a#b",
        "a\\b",
        "%41",
        "a b",
        "[]",
        ":80",
        "-",
        ".",
      ),
      fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
      fc
        .tuple(
          fc.stringMatching(/^[a-z0-9.-]{0,10}$/),
          fc.constantFrom("@", "/", "?", "#", "\\", "%", "[", "]", "|", "^", "`", "{", "}", "<", ">"),
          fc.stringMatching(/^[a-z0-9.:-]{0,10}$/),
        )
        .map((parts) => parts.join("")),
    );

    it(
      "property: any Host value gets a 4xx or a normal answer; never a 5xx, an echo of the query, or an error-level log line",
      async () => {
        await checkProperty(
          `wire (${handler}): hostile Host headers`,
          fc.asyncProperty(hostileHost, fc.constantFrom("GET", "POST", "HEALTH"), async (host, kind) => {
            const errorsBefore = logLines.filter((line) => line.level >= 50).length;
            const request =
              kind === "HEALTH"
                ? `GET /health?${MARKER} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`
                : kind === "GET"
                  ? `GET /trpc/sessionTokens.list?input=%7B%22externalUserId%22%3A%22${MARKER}%22%7D HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${auth.authorization}\r\nConnection: close\r\n\r\n`
                  : `POST /trpc/sessionTokens.verify?${MARKER} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`;
            const answer = await sendRaw(port, request);
            expect(
              answer.status === null || answer.status < 500,
              `${JSON.stringify(host)} ${kind}: ${answer.text.slice(0, 300)}`,
            ).toBe(true);
            expect(answer.text, `${JSON.stringify(host)} ${kind}`).not.toContain(MARKER);
            expect(
              logLines.filter((line) => line.level >= 50).length,
              `error-level log for Host ${JSON.stringify(host)}`,
            ).toBe(errorsBefore);
          }),
          NO_SHRINK,
        );
      },
      PROPERTY_TIMEOUT_MS,
    );

    it("Host: a@b gets 400 Invalid Host header on every path", async () => {
      for (const path of ["/trpc/sessionTokens.list?input=%7B%7D", "/health", "/elsewhere"]) {
        const answer = await sendRaw(port, `GET ${path} HTTP/1.1\r\nHost: a@b\r\nConnection: close\r\n\r\n`);
        // Refused: no URL can be built from this Host.
        expect(answer.status).toBe(400);
        expect(answer.text).toContain("Invalid Host header");
      }
    });
  });

  describe("security headers on every response", () => {
    const list = `/trpc/sessionTokens.list?input=${encodeURIComponent(JSON.stringify({ externalUserId: "user_1" }))}`;
    const cases: Array<[string, () => Promise<{ status: number | null; headers: Record<string, unknown> }>]> = [
      ["200 query", () => send(port, { path: list, headers: auth })],
      [
        "200 mutation",
        () =>
          send(port, {
            method: "POST",
            path: "/trpc/sessionTokens.create",
            headers: { ...auth, "content-type": "application/json" },
            body: '{"externalUserId":"h"}',
          }),
      ],
      ["401 without a key", () => send(port, { path: list })],
      [
        "401 before the body",
        () => openRequest(port, postHead("/trpc/sessionTokens.create", { "content-length": 100 })).answer,
      ],
      ["400 invalid input", () => send(port, { path: "/trpc/sessionTokens.list?input=%7B", headers: auth })],
      [
        "400 ill-formed UTF-8 body",
        () =>
          send(port, {
            method: "POST",
            path: "/trpc/sessionTokens.verify",
            headers: { ...auth, "content-type": "application/json" },
            body: Buffer.from([0x7b, 0xff, 0x7d]),
          }),
      ],
      ["400 ill-formed UTF-8 query", () => send(port, { path: "/trpc/sessionTokens.list?input=%FF", headers: auth })],
      ["400 undecodable procedure path", () => send(port, { path: "/trpc/%E0%A4%A", headers: auth })],
      ["400 bad Host", () => openRequest(port, "GET /health HTTP/1.1\r\nHost: a@b\r\n\r\n").answer],
      ["404 unknown procedure", () => send(port, { path: "/trpc/nope", headers: auth })],
      ["404 elsewhere", () => send(port, { path: "/elsewhere" })],
      ["405 method", () => send(port, { method: "PUT", path: "/trpc/sessionTokens.list" })],
      ["405 mutation over GET", () => send(port, { path: "/trpc/sessionTokens.create?input=%7B%7D", headers: auth })],
      [
        "413 declared too large",
        () =>
          openRequest(port, postHead("/trpc/sessionTokens.create", { ...auth, "content-length": 2 * 1024 * 1024 }))
            .answer,
      ],
      [
        "415 content type",
        () =>
          send(port, {
            method: "POST",
            path: "/trpc/sessionTokens.create",
            headers: { ...auth, "content-type": "text/plain" },
            body: "x",
          }),
      ],
      [
        "204 preflight",
        () => send(port, { method: "OPTIONS", path: "/trpc/session.get", headers: { origin: "http://app.example" } }),
      ],
      [
        "403 preflight",
        () =>
          send(port, {
            method: "OPTIONS",
            path: "/trpc/sessionTokens.create",
            headers: { origin: "http://app.example" },
          }),
      ],
      ["200 health", () => send(port, { path: "/health" })],
      ["200 HEAD health", () => send(port, { method: "HEAD", path: "/health" })],
      ["HEAD on a procedure", () => send(port, { method: "HEAD", path: list, headers: auth })],
      ["400 from the parser", () => openRequest(port, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").answer],
      [
        "431 from the parser",
        () => openRequest(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`).answer,
      ],
    ];

    it.each(cases)("%s", async (_name, request) => {
      const answer = await request();
      expect(answer.status).not.toBeNull();
      expect(answer.headers["cache-control"]).toBe("no-store");
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    });
  });
});
