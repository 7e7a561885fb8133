import { connect, type Socket } from "node:net";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { createHarness, type Harness } from "../harness.js";
import { send } from "../security/http-client.js";

// Issue item 2: connections were not capped. MAX_CONNECTIONS is node's server.maxConnections: past
// it, a new connection is closed as it arrives; connections already open keep being served.

const CAP = 5;
let h: Harness;
let server: RunningHttpServer;

beforeEach(async () => {
  h = await createHarness();
  server = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1", maxConnections: CAP });
});
afterEach(async () => {
  await server.close(500);
  await h.close();
});

/** A connection that sends nothing; resolves `closed` when the server closes it. */
function idleConnection(port: number): { socket: Socket; closed: Promise<void> } {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  return { socket, closed: new Promise((resolve) => socket.on("close", () => resolve())) };
}

it("past MAX_CONNECTIONS a new connection is closed unanswered; once one closes, new connections are served again", async () => {
  const held = Array.from({ length: CAP }, () => idleConnection(server.port));
  await Promise.all(held.map(({ socket }) => new Promise((resolve) => socket.once("connect", resolve))));
  // Refused: the cap is reached, so this one is closed as it is accepted.
  const extra = idleConnection(server.port);
  await extra.closed;

  held[0]!.socket.destroy();
  await held[0]!.closed;
  // Served again once the server has seen that close (retried briefly: the close reaches it asynchronously).
  let served = false;
  for (let attempt = 0; attempt < 50 && !served; attempt++) {
    served = await send(server.port, { path: "/health", reuseConnection: false }).then((answer) => answer.status === 200, () => false);
    if (!served) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(served).toBe(true);
  for (const { socket } of held) socket.destroy();
});
