import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApiKey } from "../../src/api-keys/api-keys.service.js";
import { PURGE_CHORE, purgeExpired } from "../../src/session-tokens/session-tokens.retention.js";
import { ManualClock } from "../../src/shared/clock.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import { CHORE_APPLICATION_NAME } from "../../src/store/postgres/postgres-pool.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import {
  createPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
} from "../support/postgres-databases.js";

// SPEC §8: several hosts on one database, exactly one purges at a time; a host that dies mid-chore
// frees it for the others.

const describePostgres = await describeOnPostgres();

describePostgres("chores one host runs at a time (Store.runAlone)", () => {
  let database: PostgresTestDatabase;
  let hostA: Store;
  let hostB: Store;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    hostA = await openPostgresStore({ url: database.url, poolSize: 2, migrate: false });
    hostB = await openPostgresStore({ url: database.url, poolSize: 2, migrate: false });
  });
  afterAll(async () => {
    await hostA?.close();
    await hostB?.close();
    await database?.drop();
  });

  function gate(): { open: () => void; opened: Promise<void> } {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  }

  it("a second host finds the chore taken and skips it at once; free again, it runs it", async () => {
    const release = gate();
    const running = hostA.runAlone("chore", async () => {
      await release.opened;
      return "A did it";
    });
    // Until A's work has taken the lock, B may still get it: wait for A's session to hold it.
    await expect
      .poll(
        async () =>
          (
            await sql<{
              n: number;
            }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and granted`.execute(hostB.kysely)
          ).rows[0]!.n,
      )
      .toBe(1);
    expect(await hostB.runAlone("chore", async () => "B did it")).toEqual({ ran: false });
    expect(await hostB.runAlone("another chore", async () => "B did another")).toEqual({
      ran: true,
      value: "B did another",
    });
    release.open();
    expect(await running).toEqual({ ran: true, value: "A did it" });
    expect(await hostB.runAlone("chore", async () => "B did it")).toEqual({ ran: true, value: "B did it" });
  });

  it("a host whose session dies mid-chore (as when its process is killed) frees it for the others", async () => {
    const release = gate();
    const running = hostA.runAlone("chore", () => release.opened);
    await expect
      .poll(
        async () =>
          (
            await sql<{
              n: number;
            }>`select count(*)::int as n from pg_stat_activity where application_name = ${CHORE_APPLICATION_NAME}`.execute(
              hostB.kysely,
            )
          ).rows[0]!.n,
      )
      .toBe(1);
    await expect
      .poll(
        async () =>
          (
            await sql<{
              n: number;
            }>`select count(*)::int as n from pg_locks where locktype = 'advisory' and granted`.execute(hostB.kysely)
          ).rows[0]!.n,
      )
      .toBe(1);
    expect(await hostB.runAlone("chore", async () => "B")).toEqual({ ran: false });
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${CHORE_APPLICATION_NAME}`.execute(
      hostB.kysely,
    );
    await expect.poll(async () => (await hostB.runAlone("chore", async () => "B")).ran).toBe(true);
    release.open();
    await running;
  });

  it("two hosts purging at once: one purges every expired token, the other skips", async () => {
    const clock = new ManualClock(START_TIME);
    const key = await createApiKey(hostA, clock, { organizationName: "Acme", environment: "test" });
    const expiredLongAgo = 2_500;
    await sql`insert into session_tokens (id, token_hash, organization_id, environment, api_key_id, external_user_id, created_at, expires_at)
      select 'tok_' || i, 'hash_' || i, ${key.organizationId}, 'test', ${key.id}, 'user', 0, 1 from generate_series(1, ${expiredLongAgo}) i`.execute(
      hostA.kysely,
    );
    const settings = { tokenRetentionMs: 1_000, auditRetentionMs: 1_000 };
    const outcomes = await Promise.all(
      [hostA, hostB].map((host) => host.runAlone(PURGE_CHORE, () => purgeExpired(host, clock, settings))),
    );
    const ran = outcomes.filter((outcome) => outcome.ran);
    // Both may run if one finished before the other began; never both at once, and every token goes once.
    const purged = ran.reduce((sum, outcome) => sum + (outcome.ran ? outcome.value.sessionTokens : 0), 0);
    expect(purged).toBe(expiredLongAgo);
    expect(
      (await sql<{ n: number }>`select count(*)::int as n from session_tokens`.execute(hostA.kysely)).rows[0]!.n,
    ).toBe(0);
  });
});
