import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryLaterError } from "../../src/shared/domain-error.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import type { Store } from "../../src/store/store.js";
import { StoreOpenError } from "../../src/store/store-open-error.js";
import {
  createPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
  postgresServerAddress,
  postgresUrlFor,
} from "../support/postgres-databases.js";
import { type PostgresProxy, startPostgresProxy } from "../support/postgres-proxy.js";

const describePostgres = await describeOnPostgres();
const PASSWORD = "s3cr%t-p4ss";

/** A local port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function openError(url: string): Promise<StoreOpenError> {
  const error = await openPostgresStore({ url, poolSize: 1 }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StoreOpenError);
  const message = (error as StoreOpenError).message;
  expect(message).not.toMatch(/[\r\n]/);
  expect(message).not.toContain("s3cr");
  return error as StoreOpenError;
}

describe("opening PostgreSQL where it cannot be opened", () => {
  it("names a URL that is not PostgreSQL's, in one line, without the password", async () => {
    const error = await openError(`mysql://app:${encodeURIComponent(PASSWORD)}@db.internal/billing`);
    expect(error.message).toMatch(/postgres:\/\/ or postgresql:\/\//);
  });

  it("names a malformed URL, in one line, without the password", async () => {
    const error = await openError(`postgres://app:${encodeURIComponent(PASSWORD)}@db.internal:notaport/billing`);
    expect(error.message).toMatch(/not a valid URL/);
    expect(error.message).toContain("app:***@");
  });

  it("names the server that refuses connections, in one line, without the password", async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await openError(`postgresql://app:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/billing`);
    expect(error.message).toContain(`postgres://app@127.0.0.1:${port}/billing`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("bounds the wait for a server that accepts and never answers", async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      const error = await openError(`postgres://app:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/billing`);
      expect(error.message).toMatch(/timeout/i);
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describePostgres("a PostgreSQL store whose server goes away", () => {
  let database: PostgresTestDatabase;
  let proxy: PostgresProxy;
  let store: Store;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    proxy = await startPostgresProxy(postgresServerAddress());
    store = await openPostgresStore({ url: postgresUrlFor(database.name, proxy), poolSize: 2, migrate: false });
  });
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await database?.drop();
  });

  it("answers ping, then a typed 503 while cut off (no crash), then recovers", async () => {
    await store.ping();
    await proxy.cut();

    const pingError = await store.ping().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(pingError).toBeDefined();
    const unavailable = store.retryLaterFor(pingError);
    expect(unavailable).toBeInstanceOf(RetryLaterError);
    expect(unavailable).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      retryAfterSeconds: 1,
      message: "The database cannot be reached; retry in 1 s",
    });

    const queryError = await store.kysely
      .selectFrom("organizations")
      .selectAll()
      .execute()
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(store.retryLaterFor(queryError)).toBeInstanceOf(RetryLaterError);
    const transactionError = await store
      .transaction((trx) => trx.run("select 1", [], true))
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(store.retryLaterFor(transactionError)).toBeInstanceOf(RetryLaterError);

    await proxy.restore();
    await store.ping();
    expect((await store.run<{ n: number }>("select count(*) as n from organizations", [], true)).rows).toEqual([
      { n: 0 },
    ]);
  });

  it("gives a 503 for a connection lost in the middle of a transaction", async () => {
    const error = await store
      .transaction(async (trx) => {
        await trx.run("select 1", [], true);
        await proxy.cut();
        await trx.run("select 2", [], true);
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(store.retryLaterFor(error)).toBeInstanceOf(RetryLaterError);
    await proxy.restore();
    await store.ping();
  });
});
