import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createMigrationTable, MIGRATION_TABLE } from "../../src/store/migrate.js";
import { migrations } from "../../src/store/migrations/index.js";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import type { Store } from "../../src/store/store.js";
import {
  createEmptyPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
} from "../support/postgres-databases.js";

const describePostgres = await describeOnPostgres();

/** The migrations that rewrite data start here: the database is taken to just before, then seeded. */
const FIRST_DATA_MIGRATION = "2026-12-02-0011-revoke-tokens-of-revoked-keys";
const T = 1_764_000_000_000;

describePostgres("migrations that rewrite existing rows, on PostgreSQL", () => {
  let database: PostgresTestDatabase;
  let store: Store;

  beforeAll(async () => {
    database = await createEmptyPostgresDatabase();
    store = await openPostgresStore({ url: database.url, poolSize: 2, migrate: false });
    await createMigrationTable(store.kysely);
    for (const name of Object.keys(migrations)
      .sort()
      .filter((name) => name < FIRST_DATA_MIGRATION)) {
      await store.transaction(async (trx) => {
        await migrations[name]!.up(trx.kysely);
        await sql`insert into ${sql.table(MIGRATION_TABLE)} (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(
          trx.kysely,
        );
      });
    }
    const db = store.kysely;
    await db.insertInto("organizations").values({ id: "org_1", name: "Acme", created_at: T }).execute();
    await db
      .insertInto("api_keys")
      .values([
        {
          id: "key_live",
          organization_id: "org_1",
          environment: "live",
          key_hash: "h1",
          key_hint: "aaaa",
          created_at: T,
          revoked_at: null,
        },
        {
          id: "key_gone",
          organization_id: "org_1",
          environment: "live",
          key_hash: "h2",
          key_hint: "bbbb",
          created_at: T,
          revoked_at: T + 5,
        },
      ])
      .execute();
    const token = {
      organization_id: "org_1",
      environment: "live" as const,
      external_user_id: "user_1",
      created_at: T,
      expires_at: T + 3_600_000,
    };
    await db
      .insertInto("session_tokens")
      .values([
        { ...token, id: "stk_ok", token_hash: "t1", api_key_id: "key_live" },
        { ...token, id: "stk_leaked", token_hash: "t2", api_key_id: "key_gone" },
      ])
      .execute();
    const customer = { organization_id: "org_1", environment: "live" as const, imported_at: T, updated_at: T };
    // imported_customers has no unbound_at yet (0022): only the columns of its time.
    await db
      .insertInto("imported_customers")
      .values([
        {
          ...customer,
          id: "cus_1",
          stripe_customer_id: "cus_s1",
          email: " Ann@Example.com ",
          email_normalized: "ann@example.com",
        },
        // KELVIN SIGN: the old rule folded it onto "k"; the ASCII rule keeps it.
        {
          ...customer,
          id: "cus_2",
          stripe_customer_id: "cus_s2",
          email: "\u212Aim@example.com",
          email_normalized: "kim@example.com",
        },
        {
          ...customer,
          id: "cus_3",
          stripe_customer_id: "cus_s3",
          email: "Kim@Example.com",
          email_normalized: "kim@example.com",
        },
        {
          ...customer,
          id: "cus_4",
          stripe_customer_id: "cus_s4",
          email: "KIM@example.com",
          email_normalized: "kim@example.com",
        },
      ] as never)
      .execute();
    await openPostgresStore({ url: database.url, poolSize: 1 }).then((migrated) => migrated.close());
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("revokes, audited, the tokens a revoked key left valid", async () => {
    const tokens = await store.kysely
      .selectFrom("session_tokens")
      .select(["id", "revoked_at", "revocation_reason"])
      .orderBy("id")
      .execute();
    expect(tokens[0]).toMatchObject({ id: "stk_leaked", revocation_reason: "key_revoked" });
    expect(typeof tokens[0]!.revoked_at).toBe("number");
    expect(tokens[1]).toEqual({ id: "stk_ok", revoked_at: null, revocation_reason: null });
    const events = await store.kysely.selectFrom("audit_events").selectAll().execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ subject_id: "stk_leaked", action: "session_token.revoked_by_key_revocation" });
    expect(JSON.parse(events[0]!.details!)).toEqual({ keyRevokedAt: new Date(T + 5).toISOString() });
  });

  it("renormalizes emails by the ASCII rule and marks the emails unbound customers share", async () => {
    const customers = await store.kysely
      .selectFrom("imported_customers")
      .select(["id", "email_normalized"])
      .orderBy("id")
      .execute();
    expect(customers.map((row) => row.email_normalized)).toEqual([
      "ann@example.com",
      "\u212Aim@example.com",
      "kim@example.com",
      "kim@example.com",
    ]);
    const ambiguous = await store.kysely
      .selectFrom("ambiguous_customer_emails")
      .select(["email_normalized", "marked_at"])
      .execute();
    expect(ambiguous.map((row) => row.email_normalized)).toEqual(["kim@example.com"]);
    expect(typeof ambiguous[0]!.marked_at).toBe("number");
  });
});
