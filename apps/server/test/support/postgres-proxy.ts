import { createServer, type Server, type Socket, connect } from "node:net";
import type { PostgresServerAddress } from "./postgres-databases.js";

/**
 * A TCP relay in front of PostgreSQL on a fixed local port: `cut()` makes the server vanish as a
 * network failure or a stopped server would (listener closed, every connection reset), `restore()`
 * brings it back on the same port. The real thing, short of stopping the cluster other tests use.
 */
export interface PostgresProxy {
  readonly host: string;
  readonly port: number;
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

export async function startPostgresProxy(target: PostgresServerAddress): Promise<PostgresProxy> {
  const sockets = new Set<Socket>();
  const relay = (client: Socket) => {
    const upstream = target.socketPath === undefined ? connect(target.port, target.host) : connect(target.socketPath);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    client.pipe(upstream).pipe(client);
    // Either side closing closes the other: a reset upstream is a reset for the client.
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  };
  let server = createServer(relay);
  const port = await listen(server, 0);
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) {
        // A reset (RST) is what a vanished server looks like; a Unix socket upstream (PGHOST a
        // directory) cannot be reset, only closed.
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
    cut: stop,
    restore: async () => {
      server = createServer(relay);
      await listen(server, port);
    },
    close: stop,
  };
}
