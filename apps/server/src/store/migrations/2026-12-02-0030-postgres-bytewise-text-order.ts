import { type Kysely, sql } from "kysely";
import { MIGRATION_TABLE } from "../migration-table.js";
import { isPostgres } from "./engine-of.js";

// Frozen. Keyset pages compare and order text ids with < > and ORDER BY, and must see the order
// SQLite has (bytewise: "tok_B" < "tok__" < "tok_a"). PostgreSQL orders text by the database's
// default collation, which in most locales (en_US, ICU) is not bytewise, so a page could skip or
// repeat rows. Every text column existing at this point gets COLLATE "C" (bytewise for UTF-8);
// comparisons with a parameter take the column's collation. A later migration adding a text
// column on PostgreSQL must give it COLLATE "C" too. SQLite's text order is bytewise already:
// nothing is done there.

interface TextColumn {
  table_name: string;
  column_name: string;
}

/** The text columns whose collation is not `collation` yet ("default" stands for none given). */
async function textColumnsToChange(db: Kysely<any>, collation: "C" | "default"): Promise<TextColumn[]> {
  const { rows } = await sql<TextColumn>`
    select table_name, column_name
    from information_schema.columns
    where table_schema = current_schema()
      and data_type = 'text'
      and table_name <> ${MIGRATION_TABLE}
      and coalesce(collation_name, 'default') <> ${collation}
    order by table_name, ordinal_position
  `.execute(db);
  return rows;
}

async function setCollation(db: Kysely<any>, collation: "C" | "default"): Promise<void> {
  const byTable = new Map<string, TextColumn[]>();
  for (const column of await textColumnsToChange(db, collation)) {
    byTable.set(column.table_name, [...(byTable.get(column.table_name) ?? []), column]);
  }
  for (const [table, tableColumns] of byTable) {
    // One statement per table: its indexes are rebuilt once, not once per column.
    const changes = tableColumns.map(
      (column) => sql`alter column ${sql.id(column.column_name)} type text collate ${sql.id(collation)}`,
    );
    await sql`alter table ${sql.id(table)} ${sql.join(changes)}`.execute(db);
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await setCollation(db, "C");
}

export async function down(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await setCollation(db, "default");
}
