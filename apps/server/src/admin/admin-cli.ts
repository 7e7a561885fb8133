import { ENVIRONMENTS } from "@billingos/contracts";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createApiKeyForOrganization, listApiKeys, revokeApiKey } from "../api-keys/api-keys.service.js";
import { type Config, ConfigError, loadConfig } from "../config.js";
import { systemClock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import { openStore } from "../store/open-store.js";
import type { Store } from "../store/store.js";
import { StoreOpenError } from "../store/store-open-error.js";
import { addCustomerCommands } from "./customer-commands.js";
import { addOrganizationCommands } from "./organization-commands.js";

/** Exit codes, as the `billingos` CLI has them: 0 done, 1 failed, 2 wrong command line (with usage). */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface AdminIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: AdminIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

function organizationName(value: string): string {
  const name = value.trim();
  if (name.length === 0 || name.length > 255)
    throw new InvalidArgumentError("an organization name is 1–255 characters");
  return name;
}

/** PostgreSQL connections the admin CLI opens at most. */
const ADMIN_POOL_SIZE = 2;

/**
 * The operators' CLI: `orgs create|list`, `keys create|list|revoke`, `customers show|tokens|revoke-tokens|audit|unresolved|unbind|bind`
 * and `migrate`, on the service's database (DATABASE_URL, else DATABASE_PATH).
 * Returns the exit code instead of exiting, so tests can run it in process.
 */
export async function runAdminCli(argv: string[], io: AdminIo = consoleIo, env = process.env): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return EXIT_FAILED;
  }
  // One command at a time: a small pool, and no key cache (nothing here reads a key twice).
  const settings = {
    databaseUrl: config.databaseUrl,
    databasePath: config.databasePath,
    poolSize: ADMIN_POOL_SIZE,
    keyCache: "off" as const,
  };
  let store: Store | undefined;
  // Keys commands migrate first, so they work on a database the server has never opened.
  const database = async () => (store ??= await openStore(settings));

  const program = new Command("admin")
    .description(
      `BillingOS administration (database: ${config.databaseUrl === undefined ? config.databasePath : "PostgreSQL at DATABASE_URL"})`,
    )
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) });

  const keys = program.command("keys").description("create, list and revoke secret API keys");
  keys
    .command("create")
    .description("create a secret key for an existing organization; it is printed once, alone on the last line")
    .requiredOption(
      "--org <name or id>",
      "the organization: its exact name or its id (org_…), as orgs list shows it",
      organizationName,
    )
    .addOption(new Option("--env <environment>", "environment").choices(ENVIRONMENTS).makeOptionMandatory())
    .option(
      "--create-org",
      "create the organization first if no organization has this name (never one differing only in case or spaces)",
      false,
    )
    .action(async (options: { org: string; env: "test" | "live"; createOrg: boolean }) => {
      const key = await createApiKeyForOrganization(await database(), systemClock, {
        organization: options.org,
        environment: options.env,
        createOrganization: options.createOrg,
      });
      if (key.organizationCreated) io.out(`Created organization "${key.organizationName}" (${key.organizationId}).`);
      io.out(
        `Created ${key.environment} key ${key.id} for organization "${key.organizationName}" (${key.organizationId}).`,
      );
      io.out("Store it now: it is shown only once.");
      io.out(key.secretKey);
    });
  keys
    .command("list")
    .description("list every key (never the key itself)")
    .action(async () => {
      const rows = await listApiKeys(await database());
      if (rows.length === 0) return io.out("No keys yet. Create one: pnpm admin keys create --org NAME --env test");
      for (const row of rows) {
        const state = row.revokedAt ? `revoked ${row.revokedAt.toISOString()}` : "active";
        io.out(
          [row.id, row.organization, row.environment, row.key, `created ${row.createdAt.toISOString()}`, state].join(
            "  ",
          ),
        );
      }
    });
  keys
    .command("revoke")
    .description("revoke a key and every session token it created")
    .argument("<id>", "key id (key_…), as shown by keys list")
    .action(async (id: string) => {
      const result = await revokeApiKey(await database(), systemClock, id);
      io.out(
        `Revoked ${result.id} at ${result.revokedAt.toISOString()}; ${result.revokedSessionTokens} session token(s) revoked with it.`,
      );
    });
  addOrganizationCommands(program, { database, out: (line) => io.out(line), organizationName });
  addCustomerCommands(program, { database, out: (line) => io.out(line), organizationName });
  program
    .command("migrate")
    .description("apply pending database migrations")
    .action(async () => {
      store ??= await openStore({ ...settings, migrate: false });
      const applied = await store.migrate();
      io.out(applied.length === 0 ? "Database is up to date." : `Applied: ${applied.join(", ")}`);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    // Commander has printed the usage or the help already: help is a success, anything else a wrong command line.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (error instanceof DomainError || error instanceof StoreOpenError) {
      io.err(error.message);
      return EXIT_FAILED;
    }
    throw error;
  } finally {
    await store?.close();
  }
}
