import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openPostgresStore } from "../../src/store/postgres/open-postgres-store.js";
import type { Store } from "../../src/store/store.js";
import {
  createEmptyPostgresDatabase,
  describeOnPostgres,
  type PostgresTestDatabase,
} from "../support/postgres-databases.js";

const describePostgres = await describeOnPostgres();

// Ids whose order differs by collation: bytewise (SQLite, C) "tok_B" < "tok__" < "tok_a"; en-US
// ignores punctuation and case at first, giving "tok__" < "tok_a" < "tok_B".
const IDS = ["tok_a", "tok_B", "tok__", "tok_0", "tok_Z~", "tok_z"];
const BYTEWISE = [...IDS].sort(); // JavaScript compares UTF-16 code units: bytewise for ASCII

describePostgres("text ids on a database whose default collation is not bytewise", () => {
  let database: PostgresTestDatabase;
  let store: Store;

  beforeAll(async () => {
    database = await createEmptyPostgresDatabase("locale_provider icu icu_locale 'en-US' template template0");
    store = await openPostgresStore({ url: database.url, poolSize: 2 });
    await store.kysely
      .insertInto("organizations")
      .values(IDS.map((id, index) => ({ id, name: `Org ${index}`, created_at: index })))
      .execute();
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it("is a database where plain text does not order bytewise (else this test proves nothing)", async () => {
    const { rows } = await sql<{ id: string }>`
      select id from unnest(${IDS}::text[]) as ids(id) order by id
    `.execute(store.kysely);
    expect(rows.map((row) => row.id)).not.toEqual(BYTEWISE);
  });

  it("orders ids bytewise, as SQLite does", async () => {
    const rows = await store.kysely.selectFrom("organizations").select("id").orderBy("id").execute();
    expect(rows.map((row) => row.id)).toEqual(BYTEWISE);
  });

  it("pages by id with > and < bytewise, so a keyset walk sees every row once", async () => {
    const seen: string[] = [];
    let after = "";
    for (;;) {
      const page = await store.kysely
        .selectFrom("organizations")
        .select("id")
        .where("id", ">", after)
        .orderBy("id")
        .limit(2)
        .execute();
      seen.push(...page.map((row) => row.id));
      if (page.length < 2) break;
      after = page.at(-1)!.id;
    }
    expect(seen).toEqual(BYTEWISE);
    const before = await store.kysely
      .selectFrom("organizations")
      .select("id")
      .where("id", "<", "tok__")
      .orderBy("id", "desc")
      .execute();
    expect(before.map((row) => row.id)).toEqual(BYTEWISE.filter((id) => id < "tok__").reverse());
  });
});
