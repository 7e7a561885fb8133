import { type Kysely, sql } from "kysely";
import { isPostgres } from "./engine-of.js";

// Frozen. Organization names compared as people read them: "Example", "example " and "EXAMPLE" are
// one name. `name_key` holds the name trimmed, with runs of whitespace made one space, in Unicode
// NFC and lower case (organizations.service.ts computes it the same way); it is unique. Organizations
// created before this migration whose names already collide keep a null key (the oldest keeps the
// name): they stay usable by id and are flagged by `admin orgs list`.

const keyOf = (name: string) => name.normalize("NFC").trim().replace(/\s+/gu, " ").toLowerCase();

export async function up(db: Kysely<any>): Promise<void> {
  // Bytewise on PostgreSQL, as every text column is (2026-12-02-0030); SQLite's text is bytewise already.
  await db.schema
    .alterTable("organizations")
    .addColumn("name_key", "text", (column) => (isPostgres(db) ? column.modifyEnd(sql`collate "C"`) : column))
    .execute();
  const rows = (await db
    .selectFrom("organizations")
    .select(["id", "name"])
    .orderBy("created_at")
    .orderBy("id")
    .execute()) as {
    id: string;
    name: string;
  }[];
  const taken = new Set<string>();
  for (const row of rows) {
    const key = keyOf(row.name);
    if (taken.has(key)) continue;
    taken.add(key);
    await db.updateTable("organizations").set({ name_key: key }).where("id", "=", row.id).execute();
  }
  await db.schema
    .createIndex("organizations_name_key_unique")
    .on("organizations")
    .column("name_key")
    .unique()
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("organizations_name_key_unique").execute();
  await db.schema.alterTable("organizations").dropColumn("name_key").execute();
}
