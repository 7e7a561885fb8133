import type { Insertable, Selectable } from "kysely";

export interface OrganizationsTable {
  id: string;
  name: string;
  created_at: number;
}

export type OrganizationRow = Selectable<OrganizationsTable>;
export type NewOrganizationRow = Insertable<OrganizationsTable>;
