import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import type { Store } from "../../src/store/store.js";
import { createContextInner } from "../../src/trpc/context.js";
import { appRouter } from "../../src/trpc/router.js";
import { createCallerFactory } from "../../src/trpc/trpc.js";
import { START_TIME } from "../harness.js";
import { type HttpAnswer, send } from "../security/http-client.js";
import { openTestStore } from "../support/test-store.js";

// The session.* procedures take no input: the token says who and what. A body used to be ignored,
// so `signOut` with `{ tokenId }` answered 200 and signed out the token in hand, not the one named.
// Now anything but nothing (or `{}`) is a BAD_REQUEST, and the call does nothing.

const HANDLERS = ["fast", "stock"] as const;
const createCaller = createCallerFactory(appRouter);

let db: Store;
let clock: ManualClock;
let server: RunningHttpServer;
let key: CreatedApiKey;

afterEach(async () => {
  await server.close(1_000);
  await db.close();
});

const merchant = () =>
  createCaller(
    createContextInner(
      { store: db, clock, logger: createLogger("silent") },
      { authorization: `Bearer ${key.secretKey}` },
    ),
  );

async function newSessionToken() {
  return merchant().sessionTokens.create({ externalUserId: "user_1" });
}

function call(
  sessionToken: string | undefined,
  request: { method: "GET" | "POST"; path: string; body?: string },
): Promise<HttpAnswer> {
  return send(server.port, {
    method: request.method,
    path: `/trpc/${request.path}`,
    headers: {
      ...(sessionToken === undefined ? {} : { authorization: `Bearer ${sessionToken}` }),
      ...(request.method === "POST" ? { "content-type": "application/json" } : {}),
    },
    ...(request.body === undefined ? {} : { body: request.body }),
  });
}

const errorOf = (answer: HttpAnswer) =>
  (
    JSON.parse(answer.body) as {
      error: { message: string; data: { code: string; fieldErrors?: Record<string, string[]> } };
    }
  ).error;
const getWithInput = (path: string, input: unknown) => `${path}?input=${encodeURIComponent(JSON.stringify(input))}`;

describe.each(HANDLERS)("session procedures take no input, on the %s handler", (handler) => {
  beforeEach(async () => {
    db = await openTestStore();
    clock = new ManualClock(START_TIME);
    key = await createApiKey(db, clock, { organizationName: "Acme", environment: "test" });
    server = await startHttpServer({
      deps: { store: db, clock, logger: createLogger("silent") },
      port: 0,
      host: "127.0.0.1",
      handler,
    });
  });

  it("signOut with { tokenId } is refused naming the unknown field, and signs nothing out", async () => {
    const mine = await newSessionToken();
    const other = await newSessionToken();
    const answer = await call(mine.sessionToken, {
      method: "POST",
      path: "session.signOut",
      body: JSON.stringify({ tokenId: other.tokenId }),
    });
    expect(answer.status).toBe(400);
    const error = errorOf(answer);
    expect(error.data.code).toBe("BAD_REQUEST");
    expect(error.data.fieldErrors).toEqual({ tokenId: ['Unknown field "tokenId"'] });
    expect(error.message).toBe('Invalid input: tokenId: Unknown field "tokenId"');
    for (const token of [mine, other]) {
      expect(await merchant().sessionTokens.verify({ sessionToken: token.sessionToken })).toMatchObject({
        valid: true,
      });
    }
  });

  it.each(["null", '"tok"', "1", "[]", "true"])(
    "signOut with the body %s is refused as taking no input",
    async (body) => {
      const mine = await newSessionToken();
      const answer = await call(mine.sessionToken, { method: "POST", path: "session.signOut", body });
      expect(answer.status).toBe(400);
      expect(errorOf(answer).message).toBe("Invalid input: session.signOut takes no input");
      expect(await merchant().sessionTokens.verify({ sessionToken: mine.sessionToken })).toMatchObject({ valid: true });
    },
  );

  it("get and customer with an input are refused the same way", async () => {
    const mine = await newSessionToken();
    for (const path of ["session.get", "session.customer"]) {
      const withField = await call(mine.sessionToken, {
        method: "GET",
        path: getWithInput(path, { externalUserId: "user_2" }),
      });
      expect(withField.status).toBe(400);
      expect(errorOf(withField).data.fieldErrors).toEqual({ externalUserId: ['Unknown field "externalUserId"'] });
      const withString = await call(mine.sessionToken, { method: "GET", path: getWithInput(path, "x") });
      expect(withString.status).toBe(400);
      expect(errorOf(withString).message).toBe(`Invalid input: ${path} takes no input`);
    }
  });

  it("no input, or an empty object, works as before", async () => {
    const first = await newSessionToken();
    expect((await call(first.sessionToken, { method: "GET", path: "session.get" })).status).toBe(200);
    expect((await call(first.sessionToken, { method: "GET", path: getWithInput("session.customer", {}) })).status).toBe(
      200,
    );
    expect((await call(first.sessionToken, { method: "POST", path: "session.signOut" })).status).toBe(200);
    const second = await newSessionToken();
    expect((await call(second.sessionToken, { method: "POST", path: "session.signOut", body: "{}" })).status).toBe(200);
    for (const token of [first, second]) {
      expect(await merchant().sessionTokens.verify({ sessionToken: token.sessionToken })).toEqual({
        valid: false,
        reason: "revoked",
      });
    }
  });

  it("the token is checked before the input: without one, a body still gets a bare 401", async () => {
    const answer = await call(undefined, {
      method: "POST",
      path: "session.signOut",
      body: JSON.stringify({ tokenId: "tok_x" }),
    });
    expect(answer.status).toBe(401);
    expect(errorOf(answer).data.fieldErrors).toBeUndefined();
  });
});
