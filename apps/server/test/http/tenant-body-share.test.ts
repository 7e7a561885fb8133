import { afterEach, describe, expect, it } from "vitest";
import { NO_INPUT_BODY_BYTES } from "../../src/http/body-limit.js";
import { type HttpServerOptions, type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { createHarness, type Harness } from "../harness.js";
import { eventually, type OpenRequest, openRequest, postHead, type RawResponse } from "./raw-exchange.js";

// Issue: the body budget (MAX_BUFFERED_BODY_BYTES) had no per-caller share. One merchant's 64
// connections, each declaring a 1 MiB body and trickling a byte every 2 s, held all of it, and
// every other tenant's creations and verifications were refused for as long as they kept at it.
// A browser holding only a session token did the same with 1 MiB bodies to `session.signOut`, a
// procedure that takes no input. Now a tenant (an organization) holds at most its share of the
// budget (429 past it, its own excess), and a procedure that takes no input takes a 1 KiB body.

const HANDLERS = ["fast", "stock"] as const;
const KiB64 = 64 * 1024;
const MiB = 1024 * 1024;

let h: Harness;
let server: RunningHttpServer;

async function start(handler: (typeof HANDLERS)[number], options: Partial<HttpServerOptions> = {}) {
  h = await createHarness();
  server = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1", handler, ...options });
}

afterEach(async () => {
  await server.close(500);
  await h.close();
});

/** A request written whole (Connection: close), answered once the server closes. */
function exchange(path: string, secret: string, body: string): Promise<RawResponse> {
  const head = postHead(path, {
    authorization: `Bearer ${secret}`,
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  return openRequest(server.port, `${head}${body}`).answer;
}

describe.each(HANDLERS)("the %s handler", (handler) => {
  describe("one tenant's share of the body budget (MAX_BUFFERED_BODY_BYTES_PER_TENANT)", () => {
    // The attacker's scenario scaled down: a budget of 8 bodies at the limit, a share of 2.
    it.each(["declared", "chunked"] as const)(
      "a tenant holding %s uploads gets 429 past its share, and another tenant's verify and create are served meanwhile",
      async (framing) => {
        await start(handler, {
          maxBodyBytes: KiB64,
          maxBufferedBodyBytes: 8 * KiB64,
          maxBufferedBodyBytesPerTenant: 2 * KiB64,
        });
        // As many uploads as would hold the whole budget, each sending one byte of its body and then nothing.
        const framingHeaders: Record<string, string | number> =
          framing === "declared" ? { "content-length": KiB64 } : { "transfer-encoding": "chunked" };
        const firstByte = framing === "declared" ? "{" : "1\r\n{\r\n";
        const hog = (secret: string): OpenRequest & { answered: boolean } => {
          const upload = openRequest(
            server.port,
            `${postHead("/trpc/sessionTokens.verify", { authorization: `Bearer ${secret}`, ...framingHeaders })}${firstByte}`,
            15_000,
          );
          const tracked = Object.assign(upload, { answered: false });
          void upload.answer.then((response) => (tracked.answered = response.status !== null));
          return tracked;
        };
        const uploads = Array.from({ length: 8 }, () => hog(h.testKey.secretKey));
        // Two fit the share and are held; the six others are answered at once.
        await eventually(
          () => uploads.filter((upload) => upload.answered).length === 6,
          "six uploads past the share were answered",
        );
        expect(server.bodyBytesReserved()).toBe(2 * KiB64);
        const refused = await Promise.all(uploads.filter((upload) => upload.answered).map((upload) => upload.answer));
        for (const response of refused) {
          // Refused: the caller's own excess, told when to come back; its body is never read.
          expect(response.status).toBe(429);
          expect(response.headers["retry-after"]).toBe("1");
          expect(response.headers.connection).toBe("close");
          expect(JSON.parse(response.body).error).toMatchObject({
            message: "Too many request bodies from this organization are being received at once; retry in 1 s",
            data: { code: "TOO_MANY_REQUESTS", httpStatus: 429, retryAfterSeconds: 1, path: "sessionTokens.verify" },
          });
        }
        // The share is the organization's: its other key (the live one) is past it too.
        const sameOrganization = await exchange(
          "/trpc/sessionTokens.verify",
          h.liveKey.secretKey,
          JSON.stringify({ sessionToken: "bos_session_test_x" }),
        );
        expect(sameOrganization.status).toBe(429);

        // Another tenant is served meanwhile: its verifications and creations read their bodies.
        const verified = await exchange(
          "/trpc/sessionTokens.verify",
          h.otherOrgKey.secretKey,
          JSON.stringify({ sessionToken: "bos_session_test_x" }),
        );
        expect(verified.status).toBe(200);
        expect(JSON.parse(verified.body).result.data).toEqual({ valid: false, reason: "malformed" });
        const created = await exchange(
          "/trpc/sessionTokens.create",
          h.otherOrgKey.secretKey,
          JSON.stringify({ externalUserId: "user_other" }),
        );
        expect(created.status).toBe(200);
        expect(JSON.parse(created.body).result.data.sessionToken).toMatch(/^bos_session_test_/);

        // The held uploads give their reservations back when they end; no tenant is left in the map.
        for (const upload of uploads) upload.socket.destroy();
        await eventually(() => server.bodyBytesReserved() === 0, "the held uploads gave their reservations back");
        expect(server.tenantsReservingBodies()).toBe(0);
      },
    );

    it("the server-wide budget stays the last resort: tenants each within their share still get 503 once it is full", async () => {
      await start(handler, {
        maxBodyBytes: KiB64,
        maxBufferedBodyBytes: 2 * KiB64,
        maxBufferedBodyBytesPerTenant: 2 * KiB64,
      });
      const first = openRequest(
        server.port,
        `${postHead("/trpc/sessionTokens.verify", { authorization: `Bearer ${h.testKey.secretKey}`, "content-length": KiB64 })}{`,
        10_000,
      );
      const second = openRequest(
        server.port,
        `${postHead("/trpc/sessionTokens.verify", { authorization: `Bearer ${h.otherOrgKey.secretKey}`, "content-length": KiB64 })}{`,
        10_000,
      );
      await eventually(() => server.bodyBytesReserved() === 2 * KiB64, "two tenants' uploads hold the whole budget");
      const refused = await exchange(
        "/trpc/sessionTokens.verify",
        h.otherOrgKey.secretKey,
        JSON.stringify({ sessionToken: "bos_session_test_x" }),
      );
      // The tenant holds half its share, but the server has no room: 503, not 429.
      expect(refused.status).toBe(503);
      expect(refused.headers["retry-after"]).toBe("1");
      for (const upload of [first, second]) upload.socket.destroy();
      await eventually(() => server.bodyBytesReserved() === 0, "the uploads gave their reservations back");
    });
  });

  describe("a procedure that takes no input takes a tiny body (session.signOut)", () => {
    /** A session token as the attacker had: scoped to customer:read, so signOut itself is FORBIDDEN. */
    async function readOnlySessionToken(): Promise<string> {
      const created = await h
        .caller(h.testKey.secretKey)
        .sessionTokens.create({ externalUserId: "end_user", allowedOperations: ["customer:read"] });
      return created.sessionToken;
    }

    it("a session token's 1 MiB declared body to session.signOut gets 413 at once; nothing is reserved", async () => {
      await start(handler);
      const token = await readOnlySessionToken();
      const { answer } = openRequest(
        server.port,
        postHead("/trpc/session.signOut", { authorization: `Bearer ${token}`, "content-length": MiB }),
      );
      const response = await answer;
      // Refused: no body of that size is what session.signOut takes; the 1 MiB is never read.
      expect(response.status).toBe(413);
      expect(JSON.parse(response.body).error.data).toMatchObject({
        code: "PAYLOAD_TOO_LARGE",
        path: "session.signOut",
      });
      expect(response.headers.connection).toBe("close");
      expect(server.bodyBytesReserved()).toBe(0);
    });

    it("a batch mixing session.signOut with a merchant call gets the tiny limit: the merchant call never reads its input with a session token", async () => {
      await start(handler);
      const token = await readOnlySessionToken();
      const { answer } = openRequest(
        server.port,
        postHead("/trpc/session.signOut,sessionTokens.verify?batch=1", {
          authorization: `Bearer ${token}`,
          "content-length": MiB,
        }),
      );
      const response = await answer;
      expect(response.status).toBe(413);
      expect(server.bodyBytesReserved()).toBe(0);
    });

    it("a chunked body to session.signOut is cut at the tiny limit (413)", async () => {
      await start(handler);
      const token = await readOnlySessionToken();
      const upload = openRequest(
        server.port,
        postHead("/trpc/session.signOut", { authorization: `Bearer ${token}`, "transfer-encoding": "chunked" }),
      );
      await eventually(() => server.bodyBytesReserved() > 0, "the chunked body was admitted");
      // Only the tiny limit is reserved for it, not MAX_BODY_BYTES.
      expect(server.bodyBytesReserved()).toBe(NO_INPUT_BODY_BYTES);
      upload.socket.write(`${(2 * NO_INPUT_BODY_BYTES).toString(16)}\r\n${" ".repeat(2 * NO_INPUT_BODY_BYTES)}\r\n`);
      const response = await upload.answer;
      expect(response.status).toBe(413);
      await eventually(() => server.bodyBytesReserved() === 0, "the reservation was given back");
    });

    it("a body within the tiny limit is read: signOut with `{}` is answered by the procedure (FORBIDDEN for a read-only token, 200 for one that may revoke)", async () => {
      await start(handler);
      const readOnly = await exchange("/trpc/session.signOut", await readOnlySessionToken(), "{}");
      expect(readOnly.status).toBe(403);
      const full = await h.caller(h.testKey.secretKey).sessionTokens.create({ externalUserId: "end_user_2" });
      const signedOut = await exchange(
        "/trpc/session.signOut",
        full.sessionToken,
        `${" ".repeat(NO_INPUT_BODY_BYTES - 2)}{}`,
      );
      expect(signedOut.status).toBe(200);
    });

    it("a batch is allowed the sum of its calls' limits: 10 × 1 KiB for ten signOuts, MAX_BODY_BYTES once one call takes input", async () => {
      await start(handler, { maxBodyBytes: KiB64 });
      const token = await readOnlySessionToken();
      const tenSignOuts = `/trpc/${Array(10).fill("session.signOut").join(",")}?batch=1`;
      const tooLarge = await openRequest(
        server.port,
        postHead(tenSignOuts, { authorization: `Bearer ${token}`, "content-length": 10 * NO_INPUT_BODY_BYTES + 1 }),
      ).answer;
      expect(tooLarge.status).toBe(413);
      const withInput = openRequest(
        server.port,
        postHead("/trpc/session.signOut,sessionTokens.verify?batch=1", {
          authorization: `Bearer ${h.testKey.secretKey}`,
          "content-length": KiB64,
        }),
      );
      await eventually(
        () => server.bodyBytesReserved() === KiB64,
        "the batch with an input-taking call reserved the whole limit",
      );
      withInput.socket.destroy();
    });
  });
});
