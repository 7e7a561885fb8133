import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP relay on a fixed local port in front of a server (PostgreSQL, Redis), for faults a killed
 * server cannot show: `cut()` makes the server vanish as a network failure or a stopped server
 * would (listener closed, every connection reset), `restore()` brings it back on the same port,
 * `holdReplies()` stops passing the server's bytes back (a request arrives and runs, its answer
 * never comes) until `restore()`.
 */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  holdReplies(): void;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Where the relay connects: a TCP address, or a Unix socket (PGHOST a directory). */
export type RelayTarget = { host: string; port: number } | { socketPath: string };

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export async function startTcpProxy(target: RelayTarget): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let holding = false;
  const relay = (client: Socket) => {
    const upstream = "socketPath" in target ? connect(target.socketPath) : connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (!holding) client.write(chunk);
    });
    // Either side closing closes the other: a reset upstream is a reset for the client.
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  };
  let server = createServer(relay);
  const port = await listen(server, 0);
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) {
        // A reset (RST) is what a vanished server looks like; a Unix socket cannot be reset, only closed.
        try {
          socket.resetAndDestroy();
        } catch {
          socket.destroy();
        }
      }
      server.close(() => resolve());
    });
  return {
    host: "127.0.0.1",
    port,
    holdReplies: () => {
      holding = true;
    },
    cut: stop,
    restore: async () => {
      holding = false;
      server = createServer(relay);
      await listen(server, port);
    },
    close: stop,
  };
}
