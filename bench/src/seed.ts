import { createHash, randomBytes } from "node:crypto";
import { BASE62_ALPHABET, formatToken, SECRET_BODY_LENGTH } from "@billingos/contracts";
import { createApiKey, openStore, systemClock } from "@billingos/server";
import BetterSqlite3 from "better-sqlite3";

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

function crockford(value: number, width: number): string {
  let out = "";
  for (let i = 0; i < width; i++) {
    out = CROCKFORD[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

function randomBody(): string {
  let body = "";
  for (const byte of randomBytes(64)) {
    if (byte < 248) body += BASE62_ALPHABET[byte % 62];
    if (body.length === SECRET_BODY_LENGTH) return body;
  }
  return randomBody();
}

export interface SeedOptions {
  /** Session tokens stored in all. */
  tokens: number;
  /** How many of them the bench keeps in the clear to verify (the rest is bulk). */
  knownTokens: number;
  /** Tokens kept active and in the clear by id, for the revoke scenario. */
  revocableTokens?: number;
  /** Imported Stripe customers, all unbound, each with its own email. */
  importedCustomers?: number;
}

export interface SeededDatabase {
  path: string;
  secretKey: string;
  key: { id: string; organizationId: string; environment: "test" };
  validTokens: string[];
  revokedToken: string;
  revocableTokenIds: string[];
}

/**
 * Builds a database as the server would have it after heavy use: migrated by the real
 * migrations, one organization with a test key, and bulk rows written straight to SQLite
 * (the service would take minutes to create a million tokens one by one).
 */
export async function seedDatabase(path: string, options: SeedOptions): Promise<SeededDatabase> {
  const db = await openStore({ databasePath: path });
  const created = await createApiKey(db, systemClock, { organizationName: "Bench", environment: "test" });
  await db.close();

  const sqlite = new BetterSqlite3(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = OFF");
  const insert = sqlite.prepare(
    `insert into session_tokens (id, token_hash, organization_id, environment, api_key_id, external_user_id,
       external_organization_id, email, allowed_operations, metadata, created_at, expires_at, revoked_at, revocation_reason)
     values (?, ?, ?, 'test', ?, ?, null, ?, null, ?, ?, ?, ?, ?)`,
  );
  const now = Date.now();
  const expiresAt = now + 7 * 86_400_000;
  const revocable = options.revocableTokens ?? 0;
  const validTokens: string[] = [];
  const revocableTokenIds: string[] = [];
  let revokedToken = "";
  const insertBatch = sqlite.transaction((from: number, to: number) => {
    for (let n = from; n < to; n++) {
      const token = formatToken("sessionToken", "test", randomBody());
      const id = `tok_01${crockford(n, 24)}`;
      const revoked = n === 0;
      insert.run(
        id,
        createHash("sha256").update(token).digest("hex"),
        created.organizationId,
        created.id,
        `user_${n % 50_000}`,
        `user${n % 50_000}@example.com`,
        JSON.stringify({ ip: "203.0.113.9" }),
        now,
        expiresAt,
        revoked ? now : null,
        revoked ? "revoked" : null,
      );
      if (revoked) revokedToken = token;
      else if (validTokens.length < options.knownTokens) validTokens.push(token);
      else if (revocableTokenIds.length < revocable) revocableTokenIds.push(id);
    }
  });
  for (let from = 0; from < options.tokens; from += 50_000) insertBatch(from, Math.min(options.tokens, from + 50_000));

  const customers = options.importedCustomers ?? 0;
  if (customers > 0) {
    const insertCustomer = sqlite.prepare(
      `insert into imported_customers (id, organization_id, environment, stripe_customer_id, email, email_normalized,
         name, metadata, stripe_created_at, imported_at, updated_at, external_user_id, bound_at, bound_by)
       values (?, ?, 'test', ?, ?, ?, ?, null, ?, ?, ?, null, null, null)`,
    );
    sqlite.transaction(() => {
      for (let n = 0; n < customers; n++) {
        const email = `customer${n}@stripe.example`;
        insertCustomer.run(
          `imp_01${crockford(n, 24)}`,
          created.organizationId,
          `cus_B${n}`,
          email,
          email,
          `Customer ${n}`,
          now,
          now,
          now,
        );
      }
      sqlite
        .prepare(
          "insert into customer_binding_counts (organization_id, environment, unresolved_count) values (?, 'test', ?)",
        )
        .run(created.organizationId, customers);
    })();
  }
  sqlite.pragma("wal_checkpoint(TRUNCATE)");
  sqlite.close();
  return {
    path,
    secretKey: created.secretKey,
    key: { id: created.id, organizationId: created.organizationId, environment: "test" },
    validTokens,
    revokedToken,
    revocableTokenIds,
  };
}
