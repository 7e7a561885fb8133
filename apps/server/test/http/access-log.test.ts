import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { authenticateSecretKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { createSessionToken } from "../../src/session-tokens/session-tokens.create.js";
import { createLogger } from "../../src/shared/logger.js";
import { createHarness, type Harness } from "../harness.js";

// Every request leaves one access-log line at info: its id (also answered as x-request-id), the
// method, procedure, status, duration, who called by id (never the credential) and why a refusal.

const HANDLERS = ["fast", "stock"] as const;

describe.each(HANDLERS)("access log (%s handler)", (handler) => {
  let h: Harness;
  let server: RunningHttpServer;
  let lines: string[];

  beforeEach(async () => {
    h = await createHarness();
    lines = [];
    const logger = createLogger("info", { write: (line: string) => void lines.push(line) });
    server = await startHttpServer({ deps: { ...h.deps, logger }, port: 0, host: "127.0.0.1", handler });
  });
  afterEach(async () => {
    await server.close(1_000);
    await h.close();
  });

  /** The access-log lines written so far (they are written when each response closes). */
  async function requestLines(count: number): Promise<Record<string, unknown>[]> {
    for (let wait = 0; wait < 100; wait++) {
      const found = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === "request");
      if (found.length >= count) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`expected ${count} access-log lines, got: ${lines.join("")}`);
  }

  const create = (secretKey: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/trpc/sessionTokens.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ externalUserId: "user_1" }),
    });

  it("logs a served call with its key, organization, environment, status and duration, and answers its id", async () => {
    const response = await create(h.testKey.secretKey);
    expect(response.status).toBe(200);
    const requestId = response.headers.get("x-request-id");
    expect(requestId).toMatch(/^req_[0-9a-f-]{36}$/);
    const [line] = await requestLines(1);
    expect(line).toMatchObject({
      level: 30,
      requestId,
      method: "POST",
      procedure: "sessionTokens.create",
      status: 200,
      keyId: h.testKey.id,
      organizationId: h.testKey.organizationId,
      environment: "test",
    });
    expect(line!.errorCode).toBeUndefined();
    expect(typeof line!.durationMs).toBe("number");
    expect(lines.join("")).not.toContain(h.testKey.secretKey);
  });

  it("logs a refused key with the error code, and no key id", async () => {
    const revoked = `${h.testKey.secretKey.slice(0, -12)}AAAAAAAAAAAA`;
    const response = await create(revoked);
    expect(response.status).toBe(401);
    const [line] = await requestLines(1);
    expect(line).toMatchObject({ procedure: "sessionTokens.create", status: 401, errorCode: "UNAUTHORIZED" });
    expect(line!.keyId).toBeUndefined();
    expect(lines.join("")).not.toContain(revoked.slice(8));
  });

  it("logs a browser call by its token id, and a refused token with the reason the browser is not told", async () => {
    const key = await authenticateSecretKey(h.store, `Bearer ${h.testKey.secretKey}`);
    const token = await createSessionToken(h.deps, key, { externalUserId: "user_1", expiresIn: 60 });
    const served = await fetch(`${server.url}/trpc/session.get`, {
      headers: { authorization: `Bearer ${token.sessionToken}` },
    });
    expect(served.status).toBe(200);
    h.clock.advance(61_000);
    const refused = await fetch(`${server.url}/trpc/session.get`, {
      headers: { authorization: `Bearer ${token.sessionToken}` },
    });
    expect(refused.status).toBe(401);
    expect(await refused.text()).not.toContain("expired");
    const [ok, expired] = await requestLines(2);
    expect(ok).toMatchObject({
      method: "GET",
      procedure: "session.get",
      status: 200,
      tokenId: token.tokenId,
      organizationId: key.organizationId,
    });
    expect(expired).toMatchObject({
      procedure: "session.get",
      status: 401,
      errorCode: "UNAUTHORIZED",
      reason: "expired",
    });
    expect(lines.join("")).not.toContain(token.sessionToken.slice(20, 40));
  });

  it("keeps a plain incoming x-request-id and replaces one that could forge a log line", async () => {
    const kept = await create(h.testKey.secretKey, { "x-request-id": "lb-7f3a2c91.trace" });
    expect(kept.headers.get("x-request-id")).toBe("lb-7f3a2c91.trace");
    const replaced = await create(h.testKey.secretKey, { "x-request-id": 'x" level=60 msg=forged' });
    expect(replaced.headers.get("x-request-id")).toMatch(/^req_/);
    const [first, second] = await requestLines(2);
    expect(first!.requestId).toBe("lb-7f3a2c91.trace");
    expect(second!.requestId).toBe(replaced.headers.get("x-request-id"));
  });

  it("never logs the path of an unknown procedure (a credential pasted into a URL)", async () => {
    const pasted = h.testKey.secretKey;
    const response = await fetch(`${server.url}/trpc/${pasted}`);
    expect(response.status).toBe(404);
    const [line] = await requestLines(1);
    expect(line).toMatchObject({ method: "GET", status: 404, errorCode: "NOT_FOUND" });
    expect(line!.procedure).toBeUndefined();
    expect(lines.join("")).not.toContain(pasted.slice(8, 40));
  });

  it("logs a successful health check at debug only, so polling does not drown the log", async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await create(h.testKey.secretKey)).status).toBe(200);
    const logged = await requestLines(1);
    expect(logged.map((line) => line.procedure)).toEqual(["sessionTokens.create"]);
  });
});

describe("LOG_FORMAT=pretty", () => {
  it("folds an access-log line into one readable line without the credential", async () => {
    const h = await createHarness();
    const out: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        out.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger("info", destination, "pretty");
    const server = await startHttpServer({ deps: { ...h.deps, logger }, port: 0, host: "127.0.0.1" });
    try {
      const response = await fetch(
        `${server.url}/trpc/sessionTokens.list?input=${encodeURIComponent(JSON.stringify({ externalUserId: "u" }))}`,
        {
          headers: { authorization: `Bearer ${h.testKey.secretKey}` },
        },
      );
      expect(response.status).toBe(200);
      for (let wait = 0; wait < 100 && !out.join("").includes("sessionTokens.list"); wait++)
        await new Promise((r) => setTimeout(r, 10));
      const text = out.join("");
      expect(text).toMatch(
        new RegExp(
          `INFO.*: GET sessionTokens\\.list 200 [\\d.]+ ms ${h.testKey.id} ${h.testKey.organizationId} test \\(req_[0-9a-f-]+\\)\\n`,
        ),
      );
      expect(text).not.toContain("{");
      expect(text).not.toContain(h.testKey.secretKey);
    } finally {
      await server.close(1_000);
      await h.close();
    }
  });
});
