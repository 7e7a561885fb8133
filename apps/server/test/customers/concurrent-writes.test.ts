import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  dataOf,
  errorLogLines,
  killAllServers,
  makeTempDir,
  queryFile,
  type ServerProcess,
  startServer,
  type TempDir,
} from "../reliability/support.js";

// Items 6 and 9 under real contention: two server processes (src/main.ts twice) on ONE SQLite file,
// each with its own connections, so imports, unbinds and token creations (lazy binds) really race
// for the write lock. Each of them runs in one BEGIN IMMEDIATE write transaction; the counter of
// unresolved customers must come out exactly the number of unbound customers, and a shared email
// must be marked whichever import came second.

let temp: TempDir;
let databasePath: string;
let servers: { A: ServerProcess; B: ServerProcess };
let secretKey: string;

beforeAll(async () => {
  temp = makeTempDir("billingos-customers-race-");
  databasePath = join(temp.path, "billingos.sqlite");
  const A = await startServer(databasePath);
  secretKey = A.developmentKey!;
  const B = await startServer(databasePath);
  servers = { A, B };
}, 120_000);

afterAll(async () => {
  await killAllServers();
  temp?.remove();
});

const mutate = async (server: ServerProcess, path: string, input: unknown) =>
  dataOf(await call(server.url, secretKey, path, input));

function counterAndUnbound(): { counter: number; unbound: number } {
  const [counter] = queryFile<{ n: number }>(
    databasePath,
    "select coalesce(sum(unresolved_count), 0) as n from customer_binding_counts",
  );
  const [unbound] = queryFile<{ n: number }>(
    databasePath,
    "select count(*) as n from imported_customers where external_user_id is null",
  );
  return { counter: Number(counter!.n), unbound: Number(unbound!.n) };
}

describe("two server processes on one file", () => {
  it("imports racing on both, each bringing one customer with the same email: every such customer is email_shared", async () => {
    const rounds = 12;
    await Promise.all(
      Array.from({ length: rounds }, (_, i) => [
        mutate(servers.A, "customers.import", {
          customers: [{ stripeCustomerId: `cus_x${i}`, email: `race${i}@example.com` }],
        }),
        mutate(servers.B, "customers.import", {
          customers: [{ stripeCustomerId: `cus_y${i}`, email: ` RACE${i}@example.com` }],
        }),
      ]).flat(),
    );
    // Tokens presenting those emails, on both processes: none binds.
    await Promise.all(
      Array.from({ length: rounds }, (_, i) =>
        mutate(i % 2 ? servers.A : servers.B, "sessionTokens.create", {
          externalUserId: `user_race${i}`,
          email: `race${i}@example.com`,
        }),
      ),
    );
    const page = dataOf<{ data: { stripeCustomerId: string; reason: string }[] }>(
      await call(servers.A.url, secretKey, "customers.listUnresolved", { limit: 100 }, "query"),
    );
    const raced = page.data.filter((c) => /^cus_[xy]\d+$/.test(c.stripeCustomerId));
    expect(raced).toHaveLength(2 * rounds);
    expect(raced.filter((c) => c.reason !== "email_shared")).toEqual([]);
    const { counter, unbound } = counterAndUnbound();
    expect(counter).toBe(unbound);
  }, 60_000);

  it("unbinds on one process racing lazy binds and token creations on the other leave the counter exact", async () => {
    const n = 16;
    const customers = Array.from({ length: n }, (_, i) => ({
      stripeCustomerId: `cus_u${i}`,
      email: `u${i}@example.com`,
    }));
    const fresh = Array.from({ length: n }, (_, i) => ({ stripeCustomerId: `cus_f${i}`, email: `f${i}@example.com` }));
    await mutate(servers.A, "customers.import", { customers: [...customers, ...fresh] });
    // Bind the u customers lazily first: these are the bindings to undo.
    for (let i = 0; i < n; i++) {
      await mutate(servers.B, "sessionTokens.create", { externalUserId: `user_u${i}`, email: `u${i}@example.com` });
    }

    await Promise.all([
      // A undoes every u binding, twice over (the second is a no-op)…
      ...[...customers, ...customers].map((c) =>
        mutate(servers.A, "customers.unbind", { stripeCustomerId: c.stripeCustomerId }),
      ),
      // …while B binds the f customers lazily, and the u users present their emails again.
      ...fresh.map((c, i) =>
        mutate(servers.B, "sessionTokens.create", { externalUserId: `user_f${i}`, email: c.email }),
      ),
      ...customers.map((c, i) =>
        mutate(servers.B, "sessionTokens.create", { externalUserId: `user_u${i}`, email: c.email }),
      ),
    ]);

    const rows = queryFile<{ stripe_customer_id: string; external_user_id: string | null; unbound_at: number | null }>(
      databasePath,
      "select stripe_customer_id, external_user_id, unbound_at from imported_customers where stripe_customer_id like 'cus_u%' or stripe_customer_id like 'cus_f%'",
    );
    // Every u customer is unbound (a token after the unbind does not bind it back); every f is bound.
    for (const row of rows) {
      if (row.stripe_customer_id.startsWith("cus_u"))
        expect(row, row.stripe_customer_id).toMatchObject({ external_user_id: null });
      else expect(row.external_user_id, row.stripe_customer_id).toBe(`user_${row.stripe_customer_id.slice(4)}`);
    }
    const unboundEvents = queryFile<{ n: number }>(
      databasePath,
      "select count(*) as n from audit_events where action = 'customer.unbound'",
    );
    expect(Number(unboundEvents[0]!.n)).toBe(n);
    const { counter, unbound } = counterAndUnbound();
    expect(counter).toBe(unbound);
    expect([...errorLogLines(servers.A), ...errorLogLines(servers.B)]).toEqual([]);
  }, 60_000);
});
