import { connect } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { createHarness, type Harness } from "../harness.js";
import { eventually, parseResponse } from "./raw-exchange.js";

// Issue: an answer its client never reads was kept in memory with no deadline: 64 connections
// that never read 6 MB answers held ~885 MB for as long as the clients kept their sockets (the
// request deadline ends when the request has arrived). Now a response not taken by its client
// within RESPONSE_WRITE_TIMEOUT_MS of being written is cut, and its connection with it.

const WRITE_TIMEOUT_MS = 2_000;
/** A bound on a hang, not a timing claim: well past the write timeout on a loaded machine. */
const CUT_WITHIN_MS = 20_000;
const TOKENS = 100;

let h: Harness;
let server: RunningHttpServer;

beforeEach(async () => {
  h = await createHarness();
  // 100 tokens of one user, each with metadata near its 8 KiB limit: a list of them is ~0.8 MB.
  const merchant = h.caller(h.testKey.secretKey);
  for (let i = 0; i < TOKENS; i++) {
    await merchant.sessionTokens.create({ externalUserId: "user_big", metadata: { pad: "x".repeat(8_000) } });
  }
  server = await startHttpServer({
    deps: h.deps,
    port: 0,
    host: "127.0.0.1",
    responseWriteTimeoutMs: WRITE_TIMEOUT_MS,
  });
});
afterEach(async () => {
  await server.close(500);
  await h.close();
});

/** A batch of 10 list calls, 100 tokens each: an answer of ~8 MB, more than the socket buffers between server and client hold. */
function bigBatchRequest(): string {
  const input = Object.fromEntries(
    Array.from({ length: 10 }, (_, index) => [index, { externalUserId: "user_big", limit: 100 }]),
  );
  const path = `/trpc/${Array(10).fill("sessionTokens.list").join(",")}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
  return `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.testKey.secretKey}\r\n\r\n`;
}

describe("a response its client does not take", () => {
  it(
    "is cut, with its connection, once the write timeout passes",
    async () => {
      const socket = connect(server.port, "127.0.0.1");
      socket.on("error", () => {});
      // Never reads: the answer piles up in the kernel's buffers, then in the server's.
      socket.pause();
      socket.write(bigBatchRequest());
      await eventually(() => server.connectionsFrom("127.0.0.1") === 1, "the server accepted the connection");
      // Cut: the server closes its side; nothing of the answer is kept waiting for a reader.
      await eventually(
        () => server.connectionsFrom("127.0.0.1") === 0,
        "the server cut the unread answer",
        CUT_WITHIN_MS,
      );
      socket.destroy();
    },
    CUT_WITHIN_MS + 10_000,
  );

  it("a client that reads gets the same answer whole (the timeout cuts only what is not taken)", async () => {
    const socket = connect(server.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.write(bigBatchRequest().replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n"));
    await new Promise((resolve) => socket.on("close", resolve));
    const response = parseResponse(Buffer.concat(chunks).toString("latin1"));
    expect(response.status).toBe(200);
    const calls = JSON.parse(response.body) as Array<{ result: { data: { data: unknown[] } } }>;
    expect(calls).toHaveLength(10);
    expect(calls.every((call) => call.result.data.data.length === TOKENS)).toBe(true);
    expect(response.body.length).toBeGreaterThan(8_000_000);
  });
});
