import type { Database } from "../db/database.js";
import type { NewOrganizationRow, OrganizationRow } from "./organizations.table.js";

export async function findOrganizationByName(db: Database, name: string): Promise<OrganizationRow | undefined> {
  return db.selectFrom("organizations").selectAll().where("name", "=", name).executeTakeFirst();
}

export async function insertOrganization(db: Database, row: NewOrganizationRow): Promise<void> {
  await db.insertInto("organizations").values(row).execute();
}

export async function hasAnyOrganization(db: Database): Promise<boolean> {
  const row = await db.selectFrom("organizations").select("id").limit(1).executeTakeFirst();
  return row !== undefined;
}
