/**
 * Token creation with 0 vs 100,000 imported customers (issue 3: "token creation costs the same").
 *
 *   cd apps/server && npx tsx --conditions=source bench/create-with-imported-customers.ts \
 *     [customers=100000] [rounds=7] [creations per run=2000] [--via-import]
 *
 * In process, through the real router (createCaller) and services, on two temp FILE databases that
 * differ only in their imported customers: "empty" has none, "loaded" has 100,000. By default they
 * are inserted directly with Kysely in one transaction, rows shaped exactly as the import service
 * shapes them, and the maintained counter is set to the number of unbound rows; `--via-import` goes
 * through the import procedure in batches of 1000 instead (the real code path, slower to set up).
 * Each round times a run of creations on each database, alternating which goes first, for two
 * kinds of creation: with an email that matches no customer (the lazy-binding lookup runs and finds
 * nothing), and without email. Medians of creations/s and the loaded/empty ratio are printed, then
 * the median time of a few other customer calls on both databases, for information.
 * Nothing here asserts on timing: the figures are for a person to read.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type CustomerToImport, MAX_IMPORT_BATCH, normalizeEmail, PRE_BIND_METADATA_KEYS } from "@billingos/contracts";
import { sql } from "kysely";
import {
  appRouter,
  createApiKey,
  createCallerFactory,
  createContextInner,
  createLogger,
  type Database,
  openDatabase,
  systemClock,
} from "../src/index.js";
import { newId } from "../src/shared/ids.js";

const args = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const VIA_IMPORT = process.argv.includes("--via-import");
const CUSTOMERS = Number(args[0] ?? 100_000);
const ROUNDS = Math.max(5, Number(args[1] ?? 7));
const CREATIONS_PER_RUN = Number(args[2] ?? 2_000);
const WARMUP_CREATIONS = 500;

const createCaller = createCallerFactory(appRouter);
type Caller = ReturnType<typeof createCaller>;

interface Setup {
  label: string;
  db: Database;
  caller: Caller;
  organizationId: string;
}

async function openSetup(dir: string, label: string): Promise<Setup> {
  const db = await openDatabase({ path: join(dir, `${label}.sqlite`) });
  const key = await createApiKey(db, systemClock, { organizationName: "Bench", environment: "test" });
  const deps = { db, clock: systemClock, logger: createLogger("silent") };
  return {
    label,
    db,
    organizationId: key.organizationId,
    caller: createCaller(createContextInner(deps, { authorization: `Bearer ${key.secretKey}` })),
  };
}

/** Realistic-ish customers: mostly distinct emails, some sharing one, some without, some pre-bound. */
function customerAt(i: number): CustomerToImport {
  // Every 50th has no email; in every hundred, numbers …01 and …02 share one (an email_shared pair).
  const email =
    i % 50 === 0 ? null : i % 100 === 1 || i % 100 === 2 ? `family${Math.floor(i / 100)}@example.com` : `customer${i}@example.com`;
  return {
    stripeCustomerId: `cus_Bench${i.toString(36).padStart(6, "0")}`,
    email,
    name: `Customer ${i}`,
    metadata: i % 20 === 0 ? { userId: `prebound_${i}` } : { plan: i % 3 === 0 ? "pro" : "free" },
    createdAt: new Date(Date.UTC(2023, 0, 1) + i * 60_000).toISOString(),
  };
}

/** Through the import procedure, in batches of 1000: the real code path, counter included. */
async function importThroughService(setup: Setup, count: number): Promise<void> {
  for (let start = 0; start < count; start += MAX_IMPORT_BATCH) {
    const customers = Array.from({ length: Math.min(MAX_IMPORT_BATCH, count - start) }, (_, j) => customerAt(start + j));
    await setup.caller.customers.import({ customers });
  }
}

/**
 * Direct inserts, shaped as the import service shapes rows (normalized email, JSON metadata,
 * pre-bound from the metadata user id), then the counter set to the number of unbound rows.
 */
async function insertDirectly(setup: Setup, count: number): Promise<void> {
  const now = Date.now();
  await setup.db.transaction().execute(async (trx) => {
    const CHUNK = 500;
    for (let start = 0; start < count; start += CHUNK) {
      const rows = Array.from({ length: Math.min(CHUNK, count - start) }, (_, j) => {
        const customer = customerAt(start + j);
        const metadata = customer.metadata ?? null;
        const userKey = PRE_BIND_METADATA_KEYS.find((key) => metadata?.[key] !== undefined);
        const boundTo = userKey === undefined ? null : metadata![userKey]!;
        return {
          id: newId("imp", now),
          organization_id: setup.organizationId,
          environment: "test" as const,
          stripe_customer_id: customer.stripeCustomerId,
          email: customer.email ?? null,
          email_normalized: normalizeEmail(customer.email),
          name: customer.name ?? null,
          metadata: metadata === null ? null : JSON.stringify(metadata),
          stripe_created_at: customer.createdAt ? Date.parse(customer.createdAt) : null,
          imported_at: now,
          updated_at: now,
          external_user_id: boundTo,
          bound_at: boundTo === null ? null : now,
          bound_by: boundTo === null ? null : ("metadata" as const),
        };
      });
      await trx.insertInto("imported_customers").values(rows).execute();
    }
    const unbound = await trx
      .selectFrom("imported_customers")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("organization_id", "=", setup.organizationId)
      .where("environment", "=", "test")
      .where("external_user_id", "is", null)
      .executeTakeFirstOrThrow();
    await trx
      .insertInto("customer_binding_counts")
      .values({ organization_id: setup.organizationId, environment: "test", unresolved_count: Number(unbound.n) })
      .execute();
  });
}

async function loadCustomers(setup: Setup, count: number): Promise<void> {
  const started = performance.now();
  await (VIA_IMPORT ? importThroughService(setup, count) : insertDirectly(setup, count));
  const seconds = (performance.now() - started) / 1000;
  const how = VIA_IMPORT ? "through customers.import" : "by direct inserts";
  console.log(`loaded ${count.toLocaleString("en")} customers into "${setup.label}" ${how} in ${seconds.toFixed(1)} s`);
}

/** Median milliseconds of `times` calls (for orders of magnitude, not for precision). */
async function medianMs(call: () => Promise<unknown>, times = 5): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

type Mode = "email, no match" | "no email";

let sequence = 0;
/** `n` creations one after another; returns creations per second. */
async function run(setup: Setup, mode: Mode, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const user = `user_${sequence++}`;
    await setup.caller.sessionTokens.create(
      mode === "no email" ? { externalUserId: user } : { externalUserId: user, email: `${user}@nomatch.example.org` },
    );
  }
  return n / ((performance.now() - started) / 1000);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function countOf(db: Database, table: "imported_customers" | "session_tokens"): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "billingos-bench-"));
  try {
    const empty = await openSetup(dir, "empty");
    const loaded = await openSetup(dir, "loaded");
    await loadCustomers(loaded, CUSTOMERS);

    // Sanity, not timing: the loaded database reports its waiting customers, the empty one none.
    const probeEmpty = await empty.caller.sessionTokens.create({ externalUserId: "probe" });
    const probeLoaded = await loaded.caller.sessionTokens.create({ externalUserId: "probe" });
    console.log(
      `imported_customers: empty=${await countOf(empty.db, "imported_customers")} loaded=${await countOf(loaded.db, "imported_customers")}; ` +
        `unresolvedCustomers in the create response: empty=${probeEmpty.unresolvedCustomers ?? "absent"} loaded=${probeLoaded.unresolvedCustomers ?? "absent"}`,
    );
    const plan = await sql<{ detail: string }>`explain query plan
      select id from imported_customers
      where organization_id = 'o' and environment = 'test' and email_normalized = 'x' and external_user_id is null limit 2`.execute(loaded.db);
    console.log(`plan of the lazy-binding candidate lookup (its WHERE clause): ${plan.rows.map((row) => row.detail).join("; ")}`);

    const modes: Mode[] = ["email, no match", "no email"];
    for (const setup of [empty, loaded]) for (const mode of modes) await run(setup, mode, WARMUP_CREATIONS);

    const results = new Map<string, number[]>();
    const record = (setup: Setup, mode: Mode, rate: number) => {
      const key = `${mode}|${setup.label}`;
      results.set(key, [...(results.get(key) ?? []), rate]);
    };
    console.log(`\n${ROUNDS} rounds of ${CREATIONS_PER_RUN} sequential creations per run, alternating databases`);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [empty, loaded] : [loaded, empty];
      const line: string[] = [];
      for (const mode of modes) {
        for (const setup of order) {
          const rate = await run(setup, mode, CREATIONS_PER_RUN);
          record(setup, mode, rate);
          line.push(`${mode}/${setup.label} ${Math.round(rate)}/s`);
        }
      }
      console.log(`round ${round + 1}: ${line.join("  ")}`);
    }

    const rows = modes.map((mode) => {
      const emptyRate = median(results.get(`${mode}|empty`)!);
      const loadedRate = median(results.get(`${mode}|loaded`)!);
      return {
        "token creation": mode,
        "0 customers (creations/s)": Math.round(emptyRate),
        [`${CUSTOMERS.toLocaleString("en")} customers (creations/s)`]: Math.round(loadedRate),
        "ratio loaded/empty": Number((loadedRate / emptyRate).toFixed(3)),
      };
    });
    console.log("\nmedians:");
    console.table(rows);

    // Other customer calls on each database (median of 5): informative, they are not token creation.
    const otherCalls: Array<[string, (setup: Setup) => Promise<unknown>]> = [
      ["customers.get by stripeCustomerId (NOT_FOUND on the empty one)", (setup) => setup.caller.customers.get({ stripeCustomerId: "cus_Bench000003" }).catch(() => null)],
      ["customers.listUnresolved, first page of 20", (setup) => setup.caller.customers.listUnresolved({ limit: 20 })],
      [
        "customers.import dryRun, 100 new customers",
        (setup) =>
          setup.caller.customers.import({
            dryRun: true,
            customers: Array.from({ length: 100 }, (_, i) => ({ stripeCustomerId: `cus_Dry${i}`, email: `dry${i}@example.com` })),
          }),
      ],
      [
        "customers.listUnresolved reason=email_shared, first page of 20",
        (setup) => setup.caller.customers.listUnresolved({ limit: 20, reason: "email_shared" }),
      ],
    ];
    console.log("\nother calls (median of 5, ms):");
    console.table(
      await otherCalls.reduce<Promise<Array<Record<string, string | number>>>>(async (acc, [name, call]) => {
        const rows = await acc;
        const emptyMs = await medianMs(() => call(empty));
        const loadedMs = await medianMs(() => call(loaded));
        return [...rows, { call: name, "0 customers": Number(emptyMs.toFixed(1)), [`${CUSTOMERS.toLocaleString("en")} customers`]: Number(loadedMs.toFixed(1)) }];
      }, Promise.resolve([])),
    );
    console.log(
      `session_tokens after the runs: empty=${await countOf(empty.db, "session_tokens")} loaded=${await countOf(loaded.db, "session_tokens")}`,
    );
    await empty.db.destroy();
    await loaded.db.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
