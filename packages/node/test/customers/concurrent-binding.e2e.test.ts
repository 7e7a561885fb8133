import type { SessionTokenCreated } from "@billingos/contracts";
import type { Store } from "@billingos/server";
import { afterEach, describe, expect, it } from "vitest";
import { BillingOS } from "../../src/index.js";
import { type FileServers, startFileServers, startServerChild } from "./file-server.js";

const EMAIL = "shared.user@example.com";
const PARALLEL = 20;

let servers: FileServers | undefined;
let stopChild: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopChild?.();
  stopChild = undefined;
  await servers?.close();
  servers = undefined;
});

/** The server's own entry point in a separate process on the same database file (see file-server.ts). */
async function startServerProcess(databaseEnv: Record<string, string>): Promise<string> {
  const child = await startServerChild(databaseEnv);
  stopChild = child.stop;
  return child.url;
}

/** Every imported-customer row of the file, as stored. */
async function customerRows(db: Store) {
  return db.kysely.selectFrom("imported_customers").selectAll().execute();
}

async function counterRows(db: Store) {
  return db.kysely.selectFrom("customer_binding_counts").selectAll().execute();
}

/** Fires PARALLEL creations for distinct users with one email, client i % clients.length sending request i. */
async function createInParallel(clients: BillingOS[]): Promise<SessionTokenCreated[]> {
  return Promise.all(
    Array.from({ length: PARALLEL }, (_, i) =>
      clients[i % clients.length]!.createSessionToken({ externalUserId: `user_${i}`, email: EMAIL }),
    ),
  );
}

async function expectBoundExactlyOnce(db: Store, created: SessionTokenCreated[]) {
  // Every request succeeded and got its own token.
  expect(created).toHaveLength(PARALLEL);
  expect(new Set(created.map((c) => c.tokenId)).size).toBe(PARALLEL);

  const rows = await customerRows(db);
  expect(rows).toHaveLength(1);
  const [customer] = rows;
  expect(customer!.bound_by).toBe("email");
  expect(Array.from({ length: PARALLEL }, (_, i) => `user_${i}`)).toContain(customer!.external_user_id);

  expect(await counterRows(db)).toEqual([
    expect.objectContaining({
      organization_id: servers!.testKey.organizationId,
      environment: "test",
      unresolved_count: 0,
    }),
  ]);
  // Only the creations that ran before the bind committed may have seen the customer as waiting.
  const sawWaiting = created.filter((c) => c.unresolvedCustomers !== undefined);
  expect(sawWaiting.every((c) => c.unresolvedCustomers === 1)).toBe(true);
  const tokens = await db.kysely.selectFrom("session_tokens").select("external_user_id").execute();
  expect(tokens).toHaveLength(PARALLEL);
}

describe("concurrent token creations for one email bind exactly once (file database, real HTTP)", () => {
  it("one server: 20 parallel requests bind the customer to exactly one user", async () => {
    servers = await startFileServers(1);
    const billing = servers.instances[0]!.client(servers.testKey.secretKey);
    await billing.importCustomers({ customers: [{ stripeCustomerId: "cus_Shared1", email: EMAIL }] });

    const created = await createInParallel([billing]);
    await expectBoundExactlyOnce(servers.instances[0]!.db, created);
  });

  it("two servers on one file (two database handles) receiving the requests alternately bind exactly once", async () => {
    servers = await startFileServers(2);
    const [first, second] = servers.instances as [(typeof servers.instances)[0], (typeof servers.instances)[0]];
    await first
      .client(servers.testKey.secretKey)
      .importCustomers({ customers: [{ stripeCustomerId: "cus_Shared1", email: EMAIL }] });

    const created = await createInParallel([
      first.client(servers.testKey.secretKey),
      second.client(servers.testKey.secretKey),
    ]);
    await expectBoundExactlyOnce(first.db, created);
    // The second handle reads the same committed state.
    expect(await customerRows(second.db)).toEqual(await customerRows(first.db));
  });

  it("an in-process server and a server PROCESS on one file, receiving the requests alternately, bind exactly once", async () => {
    servers = await startFileServers(1);
    const key = servers.testKey.secretKey;
    const local = servers.instances[0]!;
    const childUrl = await startServerProcess(servers.databaseEnv);
    const remote = new BillingOS({ secretKey: key, sandboxUrl: childUrl, productionUrl: childUrl });
    // Imported through the other process: the in-process server sees it through the file.
    await remote.importCustomers({ customers: [{ stripeCustomerId: "cus_Shared1", email: EMAIL }] });

    const created = await createInParallel([local.client(key), remote]);
    await expectBoundExactlyOnce(local.db, created);
  });

  it("two servers: parallel creations for many emails each bind their own customer, and the counter reaches 0", async () => {
    servers = await startFileServers(2);
    const key = servers.testKey.secretKey;
    const clients = servers.instances.map((instance) => instance.client(key));
    const n = 30;
    await clients[0]!.importCustomers({
      customers: Array.from({ length: n }, (_, i) => ({
        stripeCustomerId: `cus_Many${i}`,
        email: `many${i}@example.com`,
      })),
    });

    // Each email is sent twice, by two different users through the two servers: one of each pair wins.
    await Promise.all(
      Array.from({ length: n * 2 }, (_, i) =>
        clients[i % 2]!.createSessionToken({ externalUserId: `user_${i}`, email: `many${i % n}@example.com` }),
      ),
    );

    const rows = await customerRows(servers.instances[1]!.db);
    expect(rows.every((row) => row.external_user_id !== null)).toBe(true);
    expect(new Set(rows.map((row) => row.external_user_id)).size).toBe(n);
    for (const row of rows) {
      const i = Number(row.stripe_customer_id.slice("cus_Many".length));
      expect([`user_${i}`, `user_${i + n}`]).toContain(row.external_user_id);
    }
    expect((await counterRows(servers.instances[0]!.db)).map((row) => row.unresolved_count)).toEqual([0]);
  });
});
