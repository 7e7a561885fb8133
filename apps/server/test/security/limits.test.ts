import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// The node client, by path: @billingos/node depends on this package, so it cannot be a dependency back.
import { BillingOS, BillingOSError } from "../../../../packages/node/src/index.js";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { loadConfig } from "../../src/config.js";
import {
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_BODY_BYTES,
  MAX_HEADER_BYTES,
  type RunningHttpServer,
  startHttpServer,
} from "../../src/http/http-server.js";
import { MemoryRateLimiter } from "../../src/rate-limits/memory-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import { openTestStore } from "../support/test-store.js";
import { type HttpAnswer, send, sendRaw } from "./http-client.js";
import { tableNames, writeFootprint } from "./support.js";

// SPEC §6 and issue 6 §5: token creation is rate-limited per key (429 + Retry-After), request bodies
// are capped (413), headers are capped (431), batches are capped (400), and the defaults the README
// documents are the ones the server uses. Every limit is checked on both wire handlers.

const HANDLERS = ["fast", "stock"] as const;
const PER_MINUTE = 5;
/** 5 a minute refill one call every 12 s: the wait a client is told after the burst. */
const REFILL_SECONDS = 60 / PER_MINUTE;

let db: Store;
let clock: ManualClock;
let server: RunningHttpServer;
let keys: { a: CreatedApiKey; a2: CreatedApiKey; b: CreatedApiKey };

async function start(handler: (typeof HANDLERS)[number]) {
  db = await openTestStore();
  clock = new ManualClock(START_TIME);
  keys = {
    a: await createApiKey(db, clock, { organizationName: "Acme", environment: "test" }),
    a2: await createApiKey(db, clock, { organizationName: "Acme", environment: "test" }),
    b: await createApiKey(db, clock, { organizationName: "Globex", environment: "test" }),
  };
  server = await startHttpServer({
    deps: {
      store: db,
      clock,
      logger: createLogger("silent"),
      createRateLimiter: new MemoryRateLimiter(PER_MINUTE, clock),
    },
    port: 0,
    host: "127.0.0.1",
    handler,
  });
}

afterEach(async () => {
  await server.close(1_000);
  await db.close();
});

const json = (answer: HttpAnswer) =>
  JSON.parse(answer.body) as { error?: { message: string; data: Record<string, unknown> } } & Array<unknown>;

function create(key: CreatedApiKey, externalUserId = "user_1") {
  return send(server.port, {
    method: "POST",
    path: "/trpc/sessionTokens.create",
    headers: { authorization: `Bearer ${key.secretKey}`, "content-type": "application/json" },
    body: JSON.stringify({ externalUserId }),
  });
}

describe.each(HANDLERS)("limits on the %s handler", (handler) => {
  beforeEach(() => start(handler));

  describe("token creation is rate-limited per key", () => {
    it("the 6th create in a minute gets 429 with Retry-After and retryAfterSeconds, and stores nothing", async () => {
      for (let i = 0; i < PER_MINUTE; i++) expect((await create(keys.a)).status).toBe(200);
      const tables = await tableNames(db);
      const before = await writeFootprint(db, tables);
      const refused = await create(keys.a);
      // Refused: the key's bucket is empty.
      expect(refused.status).toBe(429);
      expect(refused.headers["retry-after"]).toBe(String(REFILL_SECONDS));
      expect(json(refused).error?.data).toMatchObject({
        code: "TOO_MANY_REQUESTS",
        httpStatus: 429,
        retryAfterSeconds: REFILL_SECONDS,
      });
      expect(json(refused).error?.message).toMatch(/retry in 12 s/);
      expect(await writeFootprint(db, tables)).toEqual(before);
    });

    it("another key, of the same organization or another, is unaffected; so are other procedures of the limited key", async () => {
      for (let i = 0; i <= PER_MINUTE; i++) await create(keys.a);
      expect((await create(keys.a)).status).toBe(429);
      expect((await create(keys.a2)).status).toBe(200);
      expect((await create(keys.b)).status).toBe(200);
      // Only creation is limited: the limited key still lists.
      const listed = await send(server.port, {
        path: `/trpc/sessionTokens.list?input=${encodeURIComponent(JSON.stringify({ externalUserId: "user_1" }))}`,
        headers: { authorization: `Bearer ${keys.a.secretKey}` },
      });
      expect(listed.status).toBe(200);
    });

    it("after the advertised wait the key creates again, for one call (a refill, not a new burst)", async () => {
      for (let i = 0; i < PER_MINUTE; i++) await create(keys.a);
      const refused = await create(keys.a);
      expect(refused.status).toBe(429);
      clock.advance(Number(refused.headers["retry-after"]) * 1000);
      expect((await create(keys.a)).status).toBe(200);
      // Refused again: the wait bought one call.
      expect((await create(keys.a)).status).toBe(429);
    });

    it("Retry-After counts down: one second before the refill it says 1", async () => {
      for (let i = 0; i <= PER_MINUTE; i++) await create(keys.a);
      clock.advance((REFILL_SECONDS - 1) * 1000);
      const early = await create(keys.a);
      // Refused: one second short of a refill, and told so.
      expect(early.status).toBe(429);
      expect(early.headers["retry-after"], "the hint a client sleeps on, 1 s before the refill").toBe("1");
      clock.advance(1000);
      expect((await create(keys.a)).status).toBe(200);
    });

    it("a batch cannot get around the limit: 8 creates in one request store exactly 5 tokens", async () => {
      const before = (await writeFootprint(db, await tableNames(db))).counts.session_tokens!;
      const calls = 8;
      const body = Object.fromEntries(Array.from({ length: calls }, (_, i) => [i, { externalUserId: `user_${i}` }]));
      const answer = await send(server.port, {
        method: "POST",
        path: `/trpc/${Array(calls).fill("sessionTokens.create").join(",")}?batch=1`,
        headers: { authorization: `Bearer ${keys.a.secretKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const items = json(answer) as Array<{ result?: unknown; error?: { data: { code: string } } }>;
      expect(items.filter((item) => item.result !== undefined)).toHaveLength(PER_MINUTE);
      // Refused: the calls past the burst, inside the same request.
      expect(items.filter((item) => item.error?.data.code === "TOO_MANY_REQUESTS")).toHaveLength(calls - PER_MINUTE);
      expect((await writeFootprint(db, await tableNames(db))).counts.session_tokens).toBe(before + PER_MINUTE);
    });

    it("the node client surfaces BillingOSError TOO_MANY_REQUESTS with retryAfterSeconds", async () => {
      const billing = new BillingOS({ secretKey: keys.a.secretKey, sandboxUrl: server.url, productionUrl: server.url });
      for (let i = 0; i < PER_MINUTE; i++) await billing.createSessionToken({ externalUserId: "user_1" });
      let thrown: unknown;
      try {
        await billing.createSessionToken({ externalUserId: "user_1" });
      } catch (error) {
        thrown = error;
      }
      // Refused: the 6th create of the minute.
      expect(thrown).toBeInstanceOf(BillingOSError);
      expect(thrown).toMatchObject({ code: "TOO_MANY_REQUESTS", httpStatus: 429, retryAfterSeconds: REFILL_SECONDS });
    });
  });

  describe("body, header and batch caps", () => {
    /** A create body of exactly `bytes` bytes: valid JSON, with the bulk in one metadata string. */
    const bodyOf = (bytes: number) => {
      const shell = JSON.stringify({ externalUserId: "user_1", metadata: { pad: "" } });
      const body = shell.replace('"pad":""', `"pad":"${"x".repeat(bytes - shell.length)}"`);
      expect(Buffer.byteLength(body)).toBe(bytes);
      return body;
    };
    const postCreate = (body: string, chunked: boolean) =>
      send(server.port, {
        method: "POST",
        path: "/trpc/sessionTokens.create",
        headers: {
          authorization: `Bearer ${keys.a.secretKey}`,
          "content-type": "application/json",
          ...(chunked ? { "transfer-encoding": "chunked" } : {}),
        },
        body,
        reuseConnection: false,
      });

    it.each([false, true])("a body of 1 MiB + 1 byte gets 413 and stores nothing (chunked: %s)", async (chunked) => {
      const tables = await tableNames(db);
      const before = await writeFootprint(db, tables);
      const answer = await postCreate(bodyOf(DEFAULT_MAX_BODY_BYTES + 1), chunked);
      // Refused: over the body cap, before the JSON is parsed.
      expect(answer.status).toBe(413);
      expect(json(answer).error?.data.code).toBe("PAYLOAD_TOO_LARGE");
      expect(await writeFootprint(db, tables)).toEqual(before);
    });

    it("a body just under 1 MiB is read (and refused for its oversized metadata: 400, not 413)", async () => {
      const answer = await postCreate(bodyOf(DEFAULT_MAX_BODY_BYTES - 16), false);
      expect(answer.status).toBe(400);
      expect(json(answer).error?.data.fieldErrors).toHaveProperty("metadata");
    });

    it("request headers over 16 KiB get 431; 15 KiB of headers are served", async () => {
      const path = `/trpc/sessionTokens.list?input=${encodeURIComponent(JSON.stringify({ externalUserId: "user_1" }))}`;
      const headers = (bytes: number) => ({
        authorization: `Bearer ${keys.a.secretKey}`,
        "x-padding": "p".repeat(bytes),
      });
      // Refused: more header bytes than the parser accepts.
      expect(
        (await send(server.port, { path, headers: headers(MAX_HEADER_BYTES + 1), reuseConnection: false })).status,
      ).toBe(431);
      expect(
        (await send(server.port, { path, headers: headers(MAX_HEADER_BYTES - 1024), reuseConnection: false })).status,
      ).toBe(200);
    });

    it("a batch of 11 calls gets 400 (queries and mutations); a batch of 10 is served", async () => {
      const auth = { authorization: `Bearer ${keys.a.secretKey}` };
      const queries = (n: number) => {
        const input = Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { externalUserId: "user_1" }]));
        return `/trpc/${Array(n).fill("sessionTokens.list").join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
      };
      // Refused: one call over the batch cap.
      const tooMany = await send(server.port, { path: queries(DEFAULT_MAX_BATCH_SIZE + 1), headers: auth });
      expect(tooMany.status).toBe(400);
      expect(JSON.stringify(json(tooMany))).toMatch(/Batch call exceeds maximum size/);
      expect((await send(server.port, { path: queries(DEFAULT_MAX_BATCH_SIZE), headers: auth })).status).toBe(200);

      const tables = await tableNames(db);
      const before = await writeFootprint(db, tables);
      const n = DEFAULT_MAX_BATCH_SIZE + 1;
      const mutations = await send(server.port, {
        method: "POST",
        path: `/trpc/${Array(n).fill("sessionTokens.create").join(",")}?batch=1`,
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(
          Object.fromEntries(Array.from({ length: n }, (_, i) => [i, { externalUserId: "user_1" }])),
        ),
      });
      // Refused as a whole: none of the 11 creates runs.
      expect(mutations.status).toBe(400);
      expect(await writeFootprint(db, tables)).toEqual(before);
    });

    it("an oversized body without a valid key is refused too (4xx), and the server keeps serving", async () => {
      const answer = await sendRaw(
        server.port,
        `POST /trpc/sessionTokens.create HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${DEFAULT_MAX_BODY_BYTES + 1}\r\n\r\n${"x".repeat(DEFAULT_MAX_BODY_BYTES + 1)}`,
      );
      // Refused: no key (401) or too big (413), whichever is checked first; never a 5xx.
      expect([401, 413]).toContain(answer.status);
      expect((await send(server.port, { path: "/health", reuseConnection: false })).status).toBe(200);
    });
  });
});

describe("the README's configuration table matches config.ts", () => {
  const readme = readFileSync(fileURLToPath(new URL("../../../../README.md", import.meta.url)), "utf8");
  const configSource = readFileSync(fileURLToPath(new URL("../../src/config.ts", import.meta.url)), "utf8");

  /** Rows of the table under "## Configuration": variable → documented default (backticks removed, or the prose). */
  function documentedDefaults(): Map<string, { literal: boolean; value: string }> {
    const section = readme.split(/^## Configuration\s*$/m)[1]?.split(/^## /m)[0] ?? "";
    const rows = new Map<string, { literal: boolean; value: string }>();
    for (const line of section.split("\n")) {
      const cells = line.split("|").map((cell) => cell.trim());
      const variable = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[1] ?? "")?.[1];
      if (variable === undefined) continue;
      const literal = /^`(.*)`$/.exec(cells[2] ?? "");
      rows.set(variable, literal ? { literal: true, value: literal[1]! } : { literal: false, value: cells[2] ?? "" });
    }
    return rows;
  }

  /** The variables config.ts reads: the keys of its environment schema. */
  function variablesRead(): string[] {
    const schema = configSource.split("const environmentSchema = z.object({")[1]?.split("\n});")[0] ?? "";
    return [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((match) => match[1]!);
  }

  it("finds both (the parsers below read something)", () => {
    expect(documentedDefaults().size).toBeGreaterThanOrEqual(5);
    expect(variablesRead()).toEqual(
      expect.arrayContaining(["PORT", "DATABASE_PATH", "CREATE_RATE_LIMIT_PER_MINUTE", "MAX_BODY_BYTES"]),
    );
  });

  it("each documented default is the default: setting it explicitly changes nothing", () => {
    const defaults = loadConfig({});
    for (const [variable, documented] of documentedDefaults()) {
      // A prose default ("all interfaces") is checked for presence only.
      if (!documented.literal) continue;
      expect(
        loadConfig({ [variable]: documented.value }),
        `README says ${variable} defaults to ${documented.value}`,
      ).toEqual(defaults);
    }
  });

  it("every variable config.ts reads is documented in the table", () => {
    const documented = documentedDefaults();
    const missing = variablesRead().filter((variable) => !documented.has(variable));
    expect(missing, `README.md's configuration table lacks: ${missing.join(", ")}`).toEqual([]);
  });
});
