import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CreatedApiKey, createApiKey } from "../../src/api-keys/api-keys.service.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import { MIGRATION_TABLE } from "../../src/store/migrate.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { createContextInner } from "../../src/trpc/context.js";
import { appRouter } from "../../src/trpc/router.js";
import { createCallerFactory } from "../../src/trpc/trpc.js";
import { START_TIME } from "../harness.js";
import { stripeCustomers } from "./support.js";

// SPEC §5 / issue 3: token creation must cost the same with 0 and 100,000 imported customers. Timing
// belongs to the benchmark; here the guard is deterministic: every query that looks customers up by
// email must be an index seek on the email, not a walk over all unbound customers. The database is
// the real one (real migrations, real SQLite); only a query log is attached to see what runs.

// SQLite by nature: these read SQLite's query plans (EXPLAIN QUERY PLAN) of the statements the
// service runs, traced on every connection of a real file store.

interface LoggedQuery {
  /** The statement with its values bound in, as SQLite ran it. */
  sql: string;
}

let dir: string;
/** A connection of the test's own, to ask for plans. */
let sqlite: BetterSqlite3.Database;
let db: Store;
let log: LoggedQuery[];
let key: CreatedApiKey;
const createCaller = createCallerFactory(appRouter);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "billingos-plans-"));
  log = [];
  db = await openSqliteStore({ path: join(dir, "plans.sqlite"), verbose: (sql) => log.push({ sql }) });
  sqlite = new BetterSqlite3(join(dir, "plans.sqlite"), { readonly: true });
  key = await createApiKey(db, new ManualClock(START_TIME), { organizationName: "Acme", environment: "test" });
});
afterEach(async () => {
  sqlite.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const caller = () =>
  createCaller(
    createContextInner(
      { store: db, clock: new ManualClock(START_TIME), logger: createLogger("silent") },
      { authorization: `Bearer ${key.secretKey}` },
    ),
  );

/** SQLite's plan for one logged statement, one line per step. */
function planOf(query: LoggedQuery): string[] {
  const rows = sqlite.prepare(`explain query plan ${query.sql}`).all() as Array<{ detail: string }>;
  return rows.map((row) => row.detail);
}

/** The plan steps that read imported_customers while filtering on the normalized email. */
function emailLookups(queries: LoggedQuery[]) {
  return queries
    .filter((query) => /"email_normalized" = /.test(query.sql) && !/^(insert|update)/i.test(query.sql))
    .map((query) => ({ sql: query.sql, plan: planOf(query).filter((step) => /imported_customers/.test(step)) }));
}

describe("email lookups are index seeks on the email", () => {
  it("token creation with email seeks the email index (lazy-binding candidates)", async () => {
    await caller().customers.import({ customers: stripeCustomers("c", 50) });
    log = [];
    await caller().sessionTokens.create({ externalUserId: "user_1", email: "nobody@example.com" });

    const lookups = emailLookups(log);
    expect(lookups.length).toBeGreaterThan(0);
    for (const lookup of lookups) {
      // A seek on (organization, environment, external_user_id IS NULL) visits every unbound customer.
      expect(lookup.plan.join("; "), lookup.sql).toMatch(/email_normalized=\?/);
    }
  });

  it("the lazy-binding lookup checks the ambiguous-email mark with one primary-key probe, not a scan", async () => {
    await caller().customers.import({ customers: stripeCustomers("c", 50) });
    log = [];
    // An email an unbound customer has: the creation looks for its candidates (with no such customer
    // it is one guarded write, whose email probe the test above checks).
    await caller().sessionTokens.create({ externalUserId: "user_1", email: "c7@example.com" });
    const lookup = log.find((query) => /"ambiguous_customer_emails"/.test(query.sql) && /^select/i.test(query.sql));
    expect(lookup, "the candidate lookup reads the ambiguous-email marks").toBeDefined();
    const steps = planOf(lookup!).filter((step) => /\ba\b|ambiguous_customer_emails/.test(step));
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps)
      expect(step, lookup!.sql).toMatch(/^SEARCH a USING .*(PRIMARY KEY|INDEX).*email_normalized=\?/);
  });

  it("the import report's email_shared check seeks the email index for each customer", async () => {
    await caller().customers.import({ customers: stripeCustomers("c", 50) });
    log = [];
    await caller().customers.import({ customers: stripeCustomers("d", 5) });

    const lookups = emailLookups(log);
    expect(lookups.length).toBeGreaterThan(0);
    for (const lookup of lookups) {
      for (const step of lookup.plan.filter((s) => /^SEARCH o\b/.test(s))) {
        // The correlated "another unbound customer has this email" subquery, once per customer.
        expect(step, lookup.sql).toMatch(/email_normalized=\?/);
      }
    }
  });
});

describe("listing unresolved customers reads one page, not every unbound customer", () => {
  for (const reason of [undefined, "awaiting_first_session", "no_email", "email_shared"] as const) {
    it(`the first page${reason ? ` filtered by ${reason}` : ""} walks the unbound index in id order, without sorting them all`, async () => {
      await caller().customers.import({ customers: stripeCustomers("c", 50) });
      log = [];
      await caller().customers.listUnresolved({ limit: 20, ...(reason ? { reason } : {}) });

      const listing = log.filter((query) => /^select "c"\.\*/.test(query.sql));
      expect(listing).toHaveLength(1);
      const plan = planOf(listing[0]!);
      // A temp B-tree for ORDER BY means every unbound customer (and its email_shared subquery) is
      // computed and sorted to return 20: 40-80 ms at 100,000 customers, growing with their number.
      expect(plan.join("; ")).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
      expect(plan.find((step) => /^(SEARCH|SCAN) c\b/.test(step))).toMatch(/imported_customers_unbound/);
    });
  }

  it("a later page (with a cursor) walks the same index", async () => {
    await caller().customers.import({ customers: stripeCustomers("c", 50) });
    const first = await caller().customers.listUnresolved({ limit: 20 });
    log = [];
    await caller().customers.listUnresolved({ limit: 20, cursor: first.nextCursor! });
    const listing = log.filter((query) => /^select "c"\.\*/.test(query.sql));
    const plan = planOf(listing[0]!);
    expect(plan.join("; ")).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
    expect(plan.find((step) => /^(SEARCH|SCAN) c\b/.test(step))).toMatch(/imported_customers_unbound/);
  });
});

describe("upgrading a database created before the covering email index", () => {
  it("a database migrated with 0002 as first landed (3-column email index) also gets the email seek after migrateToLatest", async () => {
    // Commit 1b355f0 shipped 2026-11-26-0002 with imported_customers_email on (organization_id,
    // environment, email_normalized); a later commit edited that migration in place to add
    // external_user_id. A database migrated in between has 0002 recorded as applied, so nothing
    // ever rebuilds its index. Recreate that state exactly, then upgrade it as a start would.
    await db.kysely.schema.dropIndex("imported_customers_email").execute();
    await db.kysely.schema
      .createIndex("imported_customers_email")
      .on("imported_customers")
      .columns(["organization_id", "environment", "email_normalized"])
      .execute();
    // Such a database has not run the migration that rebuilds the index either.
    await db.kysely
      .deleteFrom(MIGRATION_TABLE as never)
      .where("name" as never, "=", "2026-11-26-0004-unbound-customer-indexes" as never)
      .execute();
    await db.migrate();

    await caller().customers.import({ customers: stripeCustomers("c", 50) });
    log = [];
    await caller().sessionTokens.create({ externalUserId: "user_1", email: "nobody@example.com" });
    const lookups = emailLookups(log);
    expect(lookups.length).toBeGreaterThan(0);
    for (const lookup of lookups) expect(lookup.plan.join("; "), lookup.sql).toMatch(/email_normalized=\?/);
  });
});
