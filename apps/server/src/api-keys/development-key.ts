import { hasAnyOrganization } from "../organizations/organizations.repository.js";
import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/store.js";
import { type CreatedApiKey, insertNewApiKey } from "./api-keys.service.js";

export const DEVELOPMENT_ORGANIZATION = "Development";

/**
 * On an empty database, creates a development organization and a test key so a new user can start
 * at once. The emptiness check and the creation are one write transaction (BEGIN IMMEDIATE): two
 * servers starting together on a new file queue on the write lock, and the second finds the first's
 * organization, so exactly one key is made and one banner printed.
 */
export async function createDevelopmentKeyIfEmpty(store: Store, clock: Clock): Promise<CreatedApiKey | null> {
  return store.transaction(async (trx) => {
    // Two servers starting together on PostgreSQL: the second waits here, then finds the first's.
    await trx.lock("development-key");
    if (await hasAnyOrganization(trx)) return null;
    return insertNewApiKey(trx, clock, { organizationName: DEVELOPMENT_ORGANIZATION, environment: "test" });
  });
}

/** The banner printed once, to stdout, when the development key is created. */
export function developmentKeyBanner(key: CreatedApiKey): string {
  const rule = "=".repeat(72);
  return [
    rule,
    `  Created organization "${key.organizationName}" with a test secret key.`,
    "  It is shown only this once; store it now (e.g. BILLINGOS_SECRET_KEY):",
    "",
    `  ${key.secretKey}`,
    "",
    "  More keys: pnpm admin keys create --org NAME --env test|live",
    rule,
  ].join("\n");
}
