import type { Queryable } from "../store/queryable.js";
import type { Clock } from "../shared/clock.js";
import { newId } from "../shared/ids.js";
import { findOrganizationByName, insertOrganizationUnlessNamed } from "./organizations.repository.js";
import type { OrganizationRow } from "./organizations.table.js";

/** Organizations are named by operators; naming one that does not exist yet creates it. */
export async function findOrCreateOrganization(db: Queryable, clock: Clock, name: string): Promise<OrganizationRow> {
  const existing = await findOrganizationByName(db, name);
  if (existing) return existing;
  // Two transactions may both find none (PostgreSQL runs them side by side): the name is unique,
  // so the second inserts nothing and takes the first's.
  await insertOrganizationUnlessNamed(db, { id: newId("org", clock.now()), name, created_at: clock.now() });
  return (await findOrganizationByName(db, name))!;
}
