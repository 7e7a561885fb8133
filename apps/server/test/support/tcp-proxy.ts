import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP relay in front of a local server (Redis here), for faults a killed server cannot show:
 * `holdReplies()` stops passing the server's bytes back (a request arrives and runs, its answer
 * never comes), `cut()` resets every connection and stops listening, `restore()` listens again on
 * the same port. The same pattern as postgres-proxy.ts.
 */
export interface TcpProxy {
  readonly port: number;
  holdReplies(): void;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let holding = false;
  const relay = (client: Socket) => {
    const upstream = connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    upstreams.add(upstream);
    upstream.on("close", () => upstreams.delete(upstream));
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      if (!holding) client.write(chunk);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  };
  let server = createServer(relay);
  const port = await listen(server, 0);
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.resetAndDestroy();
      server.close(() => resolve());
    });
  return {
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
