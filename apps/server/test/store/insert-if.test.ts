import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { preparedSql } from "../../src/store/prepared-query.js";
import type { Queryable } from "../../src/store/queryable.js";
import type { RowInsert } from "../../src/store/store.js";
import { createHarness, type Harness } from "../harness.js";

// Store.insertIf: a guard read decides, the inserts it allows are stored all or nothing (on
// PostgreSQL one statement of data-modifying CTEs; on SQLite a grouped unit).

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const guardOn = preparedSql((db: Queryable, wanted: number) =>
  db.kysely.selectNoFrom([sql<number>`${wanted}`.as("wanted"), sql<boolean>`(${wanted} = 1)`.as("proceed")]),
);

function eventInsert(id: string): RowInsert {
  const columns = ["id", "organization_id", "environment", "occurred_at", "action", "actor_type"];
  return {
    table: "audit_events",
    columns,
    values: [id, h.testKey.organizationId, "test", 1, "session_token.created", "operator"],
  };
}

async function eventIds(): Promise<string[]> {
  const rows = await h.store.kysely.selectFrom("audit_events").select("id").where("id", "like", "evt_test_%").execute();
  return rows.map((row) => row.id).sort();
}

describe("Store.insertIf", () => {
  it("stores every insert when the guard says proceed, and answers the guard's row", async () => {
    const outcome = await h.store.insertIf<{ wanted: number; proceed: unknown }>({
      guard: guardOn(h.store, 1),
      inserts: [eventInsert("evt_test_a"), eventInsert("evt_test_b")],
    });
    expect(outcome?.inserted).toBe(true);
    expect(Number(outcome?.row.wanted)).toBe(1);
    expect(await eventIds()).toEqual(["evt_test_a", "evt_test_b"]);
  });

  it("stores nothing when the guard says no, and still answers its row", async () => {
    const outcome = await h.store.insertIf<{ wanted: number; proceed: unknown }>({
      guard: guardOn(h.store, 0),
      inserts: [eventInsert("evt_test_a"), eventInsert("evt_test_b")],
    });
    expect(outcome?.inserted).toBe(false);
    expect(Number(outcome?.row.wanted)).toBe(0);
    expect(await eventIds()).toEqual([]);
  });

  it("stores none of the inserts when one of them fails (here: the second repeats the first's key)", async () => {
    await expect(
      h.store.insertIf({ guard: guardOn(h.store, 1), inserts: [eventInsert("evt_test_a"), eventInsert("evt_test_a")] }),
    ).rejects.toThrow(/unique|UNIQUE/);
    expect(await eventIds()).toEqual([]);
    // The store is usable afterwards.
    const outcome = await h.store.insertIf({ guard: guardOn(h.store, 1), inserts: [eventInsert("evt_test_c")] });
    expect(outcome?.inserted).toBe(true);
    expect(await eventIds()).toEqual(["evt_test_c"]);
  });
});
