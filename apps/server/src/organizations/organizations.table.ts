import type { Insertable, Selectable } from "kysely";

export interface OrganizationsTable {
  id: string;
  name: string;
  /**
   * The name as compared (organization-name.ts): unique, so names that differ only in case or
   * spaces cannot both exist. Null only on an organization that collided before keys existed.
   */
  name_key: string | null;
  created_at: number;
}

export type OrganizationRow = Selectable<OrganizationsTable>;
export type NewOrganizationRow = Insertable<OrganizationsTable>;
