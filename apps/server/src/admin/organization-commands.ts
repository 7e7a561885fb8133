import type { Command } from "commander";
import { organizationNameKey } from "../organizations/organization-name.js";
import { listOrganizations } from "../organizations/organizations.repository.js";
import { createOrganization } from "../organizations/organizations.service.js";
import { systemClock } from "../shared/clock.js";
import type { Store } from "../store/store.js";

/** What the organization commands need from the CLI around them. */
export interface OrganizationCommandContext {
  database(): Promise<Store>;
  out(line: string): void;
  organizationName(value: string): string;
}

/**
 * `orgs create <name>` and `orgs list`: organizations are made on purpose, with an id, never as a
 * side effect of a typo in `keys create --org`.
 */
export function addOrganizationCommands(program: Command, context: OrganizationCommandContext): void {
  const orgs = program.command("orgs").description("create and list organizations (the merchants this service serves)");
  orgs
    .command("create")
    .description("create an organization; a name differing only in case or spaces from an existing one is refused")
    .argument("<name>", "the organization's name (1–255 characters)", context.organizationName)
    .action(async (name: string) => {
      const store = await context.database();
      const organization = await store.transaction((trx) => createOrganization(trx, systemClock, name));
      context.out(`Created organization "${organization.name}" (${organization.id}).`);
      context.out(organization.id);
    });
  orgs
    .command("list")
    .description("list every organization: id, name, creation time")
    .action(async () => {
      const rows = await listOrganizations(await context.database());
      if (rows.length === 0) return context.out('No organizations yet. Create one: pnpm admin orgs create "Acme"');
      for (const row of rows) {
        const line = [row.id, JSON.stringify(row.name), `created ${new Date(Number(row.created_at)).toISOString()}`];
        // Organizations created before names were compared whole can collide; the oldest holds the name.
        if (row.name_key === null) {
          const holder = rows.find((other) => other.name_key === organizationNameKey(row.name));
          line.push(`(same name as ${holder?.id ?? "another organization"} but for case or spaces: use its id)`);
        }
        context.out(line.join("  "));
      }
    });
}
