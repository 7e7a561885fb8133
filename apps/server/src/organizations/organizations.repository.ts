import type { Queryable } from "../store/queryable.js";
import type { NewOrganizationRow, OrganizationRow } from "./organizations.table.js";

export async function findOrganizationByName(db: Queryable, name: string): Promise<OrganizationRow | undefined> {
  return db.kysely.selectFrom("organizations").selectAll().where("name", "=", name).executeTakeFirst();
}

export async function findOrganizationById(db: Queryable, id: string): Promise<OrganizationRow | undefined> {
  return db.kysely.selectFrom("organizations").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The organization whose name compares equal (organization-name.ts), if any. */
export async function findOrganizationByNameKey(db: Queryable, nameKey: string): Promise<OrganizationRow | undefined> {
  return db.kysely.selectFrom("organizations").selectAll().where("name_key", "=", nameKey).executeTakeFirst();
}

export async function listOrganizations(db: Queryable): Promise<OrganizationRow[]> {
  return db.kysely.selectFrom("organizations").selectAll().orderBy("created_at").orderBy("id").execute();
}

/**
 * Inserts the organization unless its name, or a name that compares equal, exists (created
 * meanwhile by another transaction: both columns are unique). True when this call inserted it.
 */
export async function insertOrganizationUnlessNamed(db: Queryable, row: NewOrganizationRow): Promise<boolean> {
  const result = await db.kysely
    .insertInto("organizations")
    .values(row)
    .onConflict((conflict) => conflict.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function hasAnyOrganization(db: Queryable): Promise<boolean> {
  const row = await db.kysely.selectFrom("organizations").select("id").limit(1).executeTakeFirst();
  return row !== undefined;
}
