import type { Clock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import { newId } from "../shared/ids.js";
import type { Queryable } from "../store/queryable.js";
import { organizationNameKey, tidyOrganizationName } from "./organization-name.js";
import {
  findOrganizationById,
  findOrganizationByName,
  findOrganizationByNameKey,
  insertOrganizationUnlessNamed,
} from "./organizations.repository.js";
import type { OrganizationRow } from "./organizations.table.js";

const ORGANIZATION_ID = /^org_[0-9a-z]{26}$/;

/** No organization by that id or exact name; `similar`: one whose name differs only in case or spaces. */
export class UnknownOrganizationError extends DomainError {
  constructor(
    message: string,
    readonly similar?: OrganizationRow,
  ) {
    super("NOT_FOUND", message);
  }
}

const describe = (organization: OrganizationRow) => `"${organization.name}" (${organization.id})`;

/**
 * Creates an organization. A name that compares equal to an existing one (differing only in case
 * or spaces) is a CONFLICT naming it: two organizations an operator cannot tell apart are a mistake.
 */
export async function createOrganization(db: Queryable, clock: Clock, name: string): Promise<OrganizationRow> {
  const tidy = tidyOrganizationName(name);
  const nameKey = organizationNameKey(tidy);
  const existing = (await findOrganizationByNameKey(db, nameKey)) ?? (await findOrganizationByName(db, tidy));
  if (existing !== undefined) throw nameTaken(tidy, existing);
  const row = { id: newId("org", clock.now()), name: tidy, name_key: nameKey, created_at: clock.now() };
  // Another transaction may have created it since the read (PostgreSQL runs them side by side):
  // the unique columns make this insert do nothing, and that is the same refusal.
  if (!(await insertOrganizationUnlessNamed(db, row))) {
    throw nameTaken(tidy, (await findOrganizationByNameKey(db, nameKey)) ?? (await findOrganizationByName(db, tidy))!);
  }
  return row;
}

function nameTaken(name: string, existing: OrganizationRow): DomainError {
  return new DomainError(
    "CONFLICT",
    existing.name === name
      ? `An organization named ${describe(existing)} already exists`
      : `${JSON.stringify(name)} differs only in case or spaces from the organization ${describe(existing)}; use that one (by name or id)`,
  );
}

/**
 * The existing organization an operator names: by id (org_…) or by its exact name. A name that
 * only compares equal to one ("example " for "Example") is refused with the real one named, so a
 * typo is never taken for another organization, nor silently for the right one.
 */
export async function resolveOrganization(db: Queryable, reference: string): Promise<OrganizationRow> {
  const wanted = reference.trim();
  if (ORGANIZATION_ID.test(wanted)) {
    const byId = await findOrganizationById(db, wanted);
    if (byId === undefined)
      throw new UnknownOrganizationError(`No organization with id ${wanted} (pnpm admin orgs list shows them)`);
    return byId;
  }
  const byName = await findOrganizationByName(db, wanted);
  if (byName !== undefined) return byName;
  const similar = await findOrganizationByNameKey(db, organizationNameKey(wanted));
  if (similar !== undefined) {
    throw new UnknownOrganizationError(
      `No organization named ${JSON.stringify(wanted)}; did you mean ${describe(similar)}?`,
      similar,
    );
  }
  throw new UnknownOrganizationError(
    `No organization named ${JSON.stringify(wanted)}; create it with: pnpm admin orgs create ${JSON.stringify(wanted)} (pnpm admin orgs list shows them)`,
  );
}

/**
 * For the development key made on an empty database: the organization of that name, created if
 * none compares equal to it.
 */
export async function findOrCreateOrganization(db: Queryable, clock: Clock, name: string): Promise<OrganizationRow> {
  const tidy = tidyOrganizationName(name);
  const nameKey = organizationNameKey(tidy);
  const existing = (await findOrganizationByName(db, tidy)) ?? (await findOrganizationByNameKey(db, nameKey));
  if (existing) return existing;
  // Two transactions may both find none (PostgreSQL runs them side by side): the name key is
  // unique, so the second inserts nothing and takes the first's.
  await insertOrganizationUnlessNamed(db, {
    id: newId("org", clock.now()),
    name: tidy,
    name_key: nameKey,
    created_at: clock.now(),
  });
  return (await findOrganizationByNameKey(db, nameKey))!;
}
