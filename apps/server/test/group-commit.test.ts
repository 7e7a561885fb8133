import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Queryable } from "../src/store/queryable.js";
import { GroupCommit } from "../src/store/sqlite/group-commit.js";
import { createHarness, type Harness } from "./harness.js";

// Concurrent token creations share one commit: they behave exactly as if run one by one in arrival
// order, and one that fails takes nothing else with it (its group runs again, a savepoint each).

let h: Harness;
beforeEach(async () => {
  h = await createHarness();
});
afterEach(() => h.close());

const countOf = async (table: "session_tokens" | "audit_events" | "organizations") =>
  Number(
    (
      await h.store.kysely
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe("group commit", () => {
  it("stores every one of many concurrent creations, each with its audit event", async () => {
    const api = h.caller(h.testKey.secretKey).sessionTokens;
    const auditBefore = await countOf("audit_events");
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api.create({ externalUserId: `user_${i}` })),
    );
    expect(new Set(created.map((token) => token.tokenId)).size).toBe(40);
    expect(await countOf("session_tokens")).toBe(40);
    expect((await countOf("audit_events")) - auditBefore).toBe(40);
    for (const token of created) {
      expect((await api.verify({ sessionToken: token.sessionToken })).valid).toBe(true);
    }
  });

  it("binds by arrival order: of two concurrent creations with one email, the first binds", async () => {
    const api = h.caller(h.testKey.secretKey);
    await api.customers.import({ customers: [{ stripeCustomerId: "cus_G1", email: "g@example.com" }] });
    await Promise.all([
      api.sessionTokens.create({ externalUserId: "user_first", email: "g@example.com" }),
      api.sessionTokens.create({ externalUserId: "user_second", email: "g@example.com" }),
    ]);
    expect((await api.customers.get({ stripeCustomerId: "cus_G1" })).externalUserId).toBe("user_first");
  });

  it("a unit that throws is rolled back alone; the others commit", async () => {
    const group = new GroupCommit((work) => h.store.transaction(work));
    const insert = (name: string) => async (trx: Queryable) => {
      await trx.kysely
        .insertInto("organizations")
        .values({ id: `org_${name}`, name, created_at: 1 })
        .execute();
      if (name === "bad") throw new Error("refused");
      return name;
    };
    const before = await countOf("organizations");
    const outcomes = await Promise.allSettled([
      group.run(insert("one")),
      group.run(insert("bad")),
      group.run(insert("two")),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await countOf("organizations")) - before).toBe(2);
    const names = (await h.store.kysely.selectFrom("organizations").select("name").execute()).map((row) => row.name);
    expect(names).toEqual(expect.arrayContaining(["one", "two"]));
    expect(names).not.toContain("bad");
  });

  it("a failing unit makes its group run again: the others are stored once, the failure reaches its caller", async () => {
    const group = new GroupCommit((work) => h.store.transaction(work));
    const runs: string[] = [];
    const insert = (name: string) => async (trx: Queryable) => {
      runs.push(name);
      await trx.kysely
        .insertInto("organizations")
        .values({ id: `org_${name}`, name, created_at: 1 })
        .execute();
      if (name === "bad") throw new Error(`refused ${name}`);
      return name;
    };
    const before = await countOf("organizations");
    const outcomes = await Promise.allSettled([
      group.run(insert("a")),
      group.run(insert("bad")),
      group.run(insert("b")),
    ]);
    expect(outcomes).toEqual([
      { status: "fulfilled", value: "a" },
      { status: "rejected", reason: new Error("refused bad") },
      { status: "fulfilled", value: "b" },
    ]);
    // First pass without savepoints stops at "bad" and rolls back; the second runs all three.
    expect(runs).toEqual(["a", "bad", "a", "bad", "b"]);
    expect((await countOf("organizations")) - before).toBe(2);
  });

  it("a lone unit that fails is rolled back whole and not run again", async () => {
    const group = new GroupCommit((work) => h.store.transaction(work));
    let runs = 0;
    const before = await countOf("organizations");
    const failing = group.run(async (trx) => {
      runs++;
      await trx.kysely.insertInto("organizations").values({ id: "org_lone", name: "lone", created_at: 1 }).execute();
      throw new Error("refused lone");
    });
    await expect(failing).rejects.toThrow("refused lone");
    expect(runs).toBe(1);
    expect(await countOf("organizations")).toBe(before);
  });
});
