import type { Queryable } from "../store/queryable.js";
import type { NewOrganizationRow, OrganizationRow } from "./organizations.table.js";

export async function findOrganizationByName(db: Queryable, name: string): Promise<OrganizationRow | undefined> {
  return db.kysely.selectFrom("organizations").selectAll().where("name", "=", name).executeTakeFirst();
}

/** Inserts the organization unless one of that name exists (created meanwhile by another transaction). */
export async function insertOrganizationUnlessNamed(db: Queryable, row: NewOrganizationRow): Promise<void> {
  await db.kysely
    .insertInto("organizations")
    .values(row)
    .onConflict((conflict) => conflict.column("name").doNothing())
    .execute();
}

export async function hasAnyOrganization(db: Queryable): Promise<boolean> {
  const row = await db.kysely.selectFrom("organizations").select("id").limit(1).executeTakeFirst();
  return row !== undefined;
}
