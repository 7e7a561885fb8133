import { afterAll, beforeAll, expect, it } from "vitest";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import {
  createPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
  postgresServerAddress,
  postgresUrlFor,
} from "../support/postgres-databases.js";
import { type PostgresProxy, startPostgresProxy } from "../support/postgres-proxy.js";

// SPEC §8: the database going away gives typed 503s, never 500s or hangs, and the service recovers
// by itself. A real server over a store whose connections run through a proxy that is cut.

const describePostgres = await describeOnPostgres();

describePostgres("the HTTP service while its PostgreSQL database is gone", () => {
  let database: PostgresTestDatabase;
  let proxy: PostgresProxy;
  let store: Store;
  let server: RunningHttpServer;
  let key: CreatedApiKey;
  const clock = new ManualClock(START_TIME);

  beforeAll(async () => {
    database = await createPostgresDatabase();
    proxy = await startPostgresProxy(postgresServerAddress());
    store = await openPostgresStore({ url: postgresUrlFor(database.name, proxy), poolSize: 4, migrate: false });
    key = await createApiKey(store, clock, { organizationName: "Acme", environment: "test" });
    server = await startHttpServer({
      deps: { store, clock, logger: createLogger("silent") },
      port: 0,
      host: "127.0.0.1",
    });
  });
  afterAll(async () => {
    await server?.close(1_000);
    await store?.close();
    await proxy?.close();
    await database?.drop();
  });

  const call = (procedure: string, input: unknown) =>
    fetch(`${server.url}/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key.secretKey}` },
      body: JSON.stringify(input),
    });

  it("answers /health 503 naming the engine, merchant calls 503 SERVICE_UNAVAILABLE with Retry-After, then recovers", async () => {
    const healthy = await fetch(`${server.url}/health`);
    expect([healthy.status, await healthy.json()]).toEqual([200, { status: "ok", engine: "postgres" }]);
    const created = await call("sessionTokens.create", { externalUserId: "user_1" });
    expect(created.status).toBe(200);
    const { result } = (await created.json()) as { result: { data: { sessionToken: string } } };

    await proxy.cut();
    const health = await fetch(`${server.url}/health`);
    expect([health.status, health.headers.get("retry-after"), await health.json()]).toEqual([
      503,
      "1",
      { status: "unavailable", engine: "postgres" },
    ]);
    for (const [procedure, input] of [
      ["sessionTokens.create", { externalUserId: "user_2" }],
      ["sessionTokens.verify", { sessionToken: result.data.sessionToken }],
      ["customers.import", { customers: [{ stripeCustomerId: "cus_1" }] }],
    ] as const) {
      const answer = await call(procedure, input);
      const body = (await answer.json()) as { error: { data: { code: string } } };
      expect([procedure, answer.status, answer.headers.get("retry-after"), body.error.data.code]).toEqual([
        procedure,
        503,
        "1",
        "SERVICE_UNAVAILABLE",
      ]);
    }

    await proxy.restore();
    const recovered = await fetch(`${server.url}/health`);
    expect(recovered.status).toBe(200);
    const verified = await call("sessionTokens.verify", { sessionToken: result.data.sessionToken });
    expect(((await verified.json()) as { result: { data: { valid: boolean } } }).result.data.valid).toBe(true);
  });
});
