import type { Store } from "../store/store.js";
import { ENVIRONMENTS } from "@billingos/contracts";
import { Command, InvalidArgumentError, Option } from "commander";
import { createApiKey, listApiKeys, revokeApiKey } from "../api-keys/api-keys.service.js";
import { type Config, ConfigError, loadConfig } from "../config.js";
import { StoreOpenError } from "../store/store-open-error.js";
import { openStore } from "../store/open-store.js";
import { systemClock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import { addCustomerCommands } from "./customer-commands.js";

export interface AdminIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: AdminIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

function organizationName(value: string): string {
  const name = value.trim();
  if (name.length === 0 || name.length > 255) throw new InvalidArgumentError("an organization name is 1–255 characters");
  return name;
}

/** PostgreSQL connections the admin CLI opens at most. */
const ADMIN_POOL_SIZE = 2;

/**
 * The operators' CLI: `keys create|list|revoke`, `customers unbind|bind` and `migrate`, on DATABASE_PATH.
 * Returns the exit code instead of exiting, so tests can run it in process.
 */
export async function runAdminCli(argv: string[], io: AdminIo = consoleIo, env = process.env): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(error.message);
    return 1;
  }
  // One command at a time: a small pool, and no key cache (nothing here reads a key twice).
  const settings = { databaseUrl: config.databaseUrl, databasePath: config.databasePath, poolSize: ADMIN_POOL_SIZE, keyCache: "off" as const };
  let store: Store | undefined;
  // Keys commands migrate first, so they work on a database the server has never opened.
  const database = async () => (store ??= await openStore(settings));

  const program = new Command("admin")
    .description(`BillingOS administration (database: ${config.databaseUrl === undefined ? config.databasePath : "PostgreSQL at DATABASE_URL"})`)
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) });

  const keys = program.command("keys").description("create, list and revoke secret API keys");
  keys
    .command("create")
    .description("create a secret key; it is printed once, alone on the last line")
    .requiredOption("--org <name>", "organization name (created if new)", organizationName)
    .addOption(new Option("--env <environment>", "environment").choices(ENVIRONMENTS).makeOptionMandatory())
    .action(async (options: { org: string; env: "test" | "live" }) => {
      const key = await createApiKey(await database(), systemClock, {
        organizationName: options.org,
        environment: options.env,
      });
      io.out(`Created ${key.environment} key ${key.id} for organization "${key.organizationName}" (${key.organizationId}).`);
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
        io.out([row.id, row.organization, row.environment, row.key, `created ${row.createdAt.toISOString()}`, state].join("  "));
      }
    });
  keys
    .command("revoke")
    .description("revoke a key and every session token it created")
    .argument("<id>", "key id (key_…), as shown by keys list")
    .action(async (id: string) => {
      const result = await revokeApiKey(await database(), systemClock, id);
      io.out(`Revoked ${result.id} at ${result.revokedAt.toISOString()}; ${result.revokedSessionTokens} session token(s) revoked with it.`);
    });
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
    const exitCode = (error as { exitCode?: unknown }).exitCode;
    if (typeof exitCode === "number") return exitCode; // commander already printed usage or help
    if (error instanceof DomainError || error instanceof StoreOpenError) {
      io.err(error.message);
      return 1;
    }
    throw error;
  } finally {
    await store?.close();
  }
}
