import { type CustomerToImport, MAX_IMPORT_BATCH } from "@billingos/contracts";
import type {
  KyselyPlugin,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { importCustomers } from "../../src/customers/customers.service.js";
import type { Queryable } from "../../src/store/queryable.js";
import type { Store } from "../../src/store/store.js";
import { createHarness, type Harness } from "../harness.js";
import { stripeCustomer } from "./support.js";

// An import is set-based: a batch costs a handful of statements whatever its number of rows, on
// either engine. On PostgreSQL each statement is a network round trip; one per row (a select, then an
// insert or an update, then a bind) made a 50,000-row import take two minutes. The database is the
// real one; the store is only wrapped to count the statements its transactions run.

/** Counts the queries a Kysely instance executes. */
class StatementCounter implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.count++;
    return args.result;
  }
}

/** `store`, whose transactions count every statement they run (through Kysely or prepared). */
function countingStatements(store: Store): { store: Store; counter: StatementCounter } {
  const counter = new StatementCounter();
  const counted = (trx: Queryable): Queryable => ({
    engine: trx.engine,
    kysely: trx.kysely.withPlugin(counter),
    run: (sql, parameters, isSelect) => {
      counter.count++;
      return trx.run(sql, parameters, isSelect);
    },
    lock: (key, mode) => trx.lock(key, mode),
    invalidateCachedReads: () => trx.invalidateCachedReads(),
    forShare: (query) => trx.forShare(query),
  });
  const wrapped = new Proxy(store, {
    get(target, property) {
      if (property === "transaction")
        return <T>(work: (trx: Queryable) => Promise<T>) => target.transaction((trx) => work(counted(trx)));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { store: wrapped, counter };
}

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

/** A full batch of every kind: new, pre-bound from metadata, sharing an email, without one. */
function batchOf(n: number, name = "Customer", prefix = "n"): CustomerToImport[] {
  return Array.from({ length: n }, (_, i) =>
    stripeCustomer(`${prefix}${i}`, {
      name: `${name} ${i}`,
      email: i % 7 === 0 ? null : `c${i % 400}@example.com`,
      ...(i % 10 === 0 ? { metadata: { user_id: `user_${prefix}${i}` } } : {}),
    }),
  );
}

async function statementsOf(customers: CustomerToImport[], dryRun = false) {
  const { store, counter } = countingStatements(h.store);
  const report = await importCustomers({ store, clock: h.clock }, h.testKey, {
    customers: customers.map((customer) => ({ ...customer, createdAt: null })),
    dryRun,
  });
  return { report, statements: counter.count };
}

describe("customers.import runs a bounded number of statements per batch", () => {
  it("1,000 new customers: a handful of statements, not one or more per row", async () => {
    const small = await statementsOf(batchOf(10));
    expect(small.report.created).toBe(10);
    h.clock.advance(1);
    const full = await statementsOf(batchOf(MAX_IMPORT_BATCH, "Customer", "f"));
    expect(full.report).toMatchObject({ created: MAX_IMPORT_BATCH, preBound: 100 });
    // Reads, writes, the counter, the shared-email marks, the report's reasons, the audit events:
    // each one statement per chunk of 500.
    expect(small.statements).toBeGreaterThan(3);
    expect(full.statements, `10 rows: ${small.statements} statements`).toBeLessThanOrEqual(small.statements + 8);
  });

  it("re-importing 1,000 customers, changed or not, and a dry run: as few", async () => {
    await statementsOf(batchOf(MAX_IMPORT_BATCH));
    h.clock.advance(1);
    const unchanged = await statementsOf(batchOf(MAX_IMPORT_BATCH));
    expect(unchanged.report).toMatchObject({ created: 0, updated: 0, unchanged: MAX_IMPORT_BATCH });
    const changed = await statementsOf(batchOf(MAX_IMPORT_BATCH, "Renamed"));
    expect(changed.report).toMatchObject({ created: 0, updated: 900, unchanged: 100 });
    const dry = await statementsOf(batchOf(MAX_IMPORT_BATCH, "Again"), true);
    expect(dry.report).toMatchObject({ dryRun: true, updated: 900 });
    for (const run of [unchanged, changed, dry]) expect(run.statements).toBeLessThanOrEqual(20);
  });
});
