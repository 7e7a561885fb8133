import type { PostgresServerAddress } from "./postgres-databases.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/** A relay in front of the test cluster (tcp-proxy.ts): the real PostgreSQL, short of stopping the cluster other tests use. */
export type PostgresProxy = TcpProxy;

export function startPostgresProxy(target: PostgresServerAddress): Promise<PostgresProxy> {
  return startTcpProxy(
    target.socketPath === undefined ? { host: target.host, port: target.port } : { socketPath: target.socketPath },
  );
}
