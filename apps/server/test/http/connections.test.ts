import { connect, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { addressGroup } from "../../src/http/connections-per-address.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { createHarness, type Harness } from "../harness.js";
import { send } from "../security/http-client.js";
import { eventually } from "./raw-exchange.js";

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
    served = await send(server.port, { path: "/health", reuseConnection: false }).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (!served) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(served).toBe(true);
  for (const { socket } of held) socket.destroy();
});

// Issue: MAX_CONNECTIONS was the only cap, a pool anyone may fill: 1,100–3,000 idle sockets from
// one host (reconnecting as they were closed) made 30–100% of a victim's new connections fail.
// MAX_CONNECTIONS_PER_ADDRESS caps what one client address holds; other addresses are still served.
describe("MAX_CONNECTIONS_PER_ADDRESS", () => {
  const PER_ADDRESS = 3;
  let capped: RunningHttpServer;

  afterEach(async () => {
    await capped.close(500);
  });

  /** A connection from `localAddress` that sends nothing; 127.0.0.2 is another loopback address on Linux. */
  function idleFrom(
    port: number,
    localAddress: string,
  ): { socket: Socket; connected: Promise<void>; closed: Promise<void> } {
    const socket = connect({ port, host: "127.0.0.1", localAddress });
    socket.on("error", () => {});
    return {
      socket,
      connected: new Promise((resolve) => socket.once("connect", () => resolve())),
      closed: new Promise((resolve) => socket.on("close", () => resolve())),
    };
  }

  /** GET /health from `localAddress`, on a connection of its own; the status, or null when closed unanswered. */
  function healthFrom(port: number, localAddress: string): Promise<number | null> {
    return new Promise((resolve) => {
      const socket = connect({ port, host: "127.0.0.1", localAddress });
      let received = "";
      socket.on("connect", () => socket.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      socket.on("error", () => {});
      socket.on("close", () => {
        const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
        resolve(status === undefined ? null : Number(status));
      });
    });
  }

  it("one address past its cap has its new connections closed at once, while another address is served; the counts are gone once all close", async () => {
    capped = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1", maxConnectionsPerAddress: PER_ADDRESS });
    const held = Array.from({ length: PER_ADDRESS }, () => idleFrom(capped.port, "127.0.0.1"));
    await Promise.all(held.map((connection) => connection.connected));
    await eventually(
      () => capped.connectionsFrom("127.0.0.1") === PER_ADDRESS,
      "the server counted the idle connections",
    );

    // Refused: one more from the same address is closed unanswered, and was never counted.
    const extra = idleFrom(capped.port, "127.0.0.1");
    await extra.closed;
    expect(await healthFrom(capped.port, "127.0.0.1")).toBeNull();
    expect(capped.connectionsFrom("127.0.0.1")).toBe(PER_ADDRESS);

    // Another client address is served as usual.
    expect(await healthFrom(capped.port, "127.0.0.2")).toBe(200);

    // The map holds only addresses with a connection open: empty once they all close.
    for (const connection of held) connection.socket.destroy();
    await Promise.all(held.map((connection) => connection.closed));
    await eventually(() => capped.addressesConnected() === 0, "every address was dropped from the counts");
    expect(await healthFrom(capped.port, "127.0.0.1")).toBe(200);
  });

  it("0 turns the cap off (behind a reverse proxy every client shares its address): only MAX_CONNECTIONS applies", async () => {
    capped = await startHttpServer({ deps: h.deps, port: 0, host: "127.0.0.1", maxConnectionsPerAddress: 0 });
    const held = Array.from({ length: PER_ADDRESS + 2 }, () => idleFrom(capped.port, "127.0.0.1"));
    await Promise.all(held.map((connection) => connection.connected));
    expect(await healthFrom(capped.port, "127.0.0.1")).toBe(200);
    for (const connection of held) connection.socket.destroy();
  });

  it("counts an IPv6 client by its /64 and an IPv4-mapped address as the IPv4 address", () => {
    expect(addressGroup("2001:db8:1:2:aaaa::1")).toBe(addressGroup("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"));
    expect(addressGroup("2001:db8:1:2::1")).not.toBe(addressGroup("2001:db8:1:3::1"));
    expect(addressGroup("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressGroup("fe80::1%eth0")).toBe(addressGroup("fe80::2"));
    expect(addressGroup("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(addressGroup("::1")).toBe("0:0:0:0::/64");
    expect(addressGroup("203.0.113.7")).toBe("203.0.113.7");
  });
});
