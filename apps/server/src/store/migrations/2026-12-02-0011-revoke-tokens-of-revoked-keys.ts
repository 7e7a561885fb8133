import type { Kysely } from "kysely";
import { newId } from "../../shared/ids.js";

// Frozen. Before token creation re-checked its key inside the write transaction, a creation in
// flight while its key was revoked could store a token after the revocation's sweep: the key
// revoked, the token not. Verify now refuses such tokens, but listings read the token row; this
// revokes them as the sweep would have, audited, at the time of the repair (until now they were
// valid). A database that never had the race has no such token and this does nothing.

export async function up(db: Kysely<any>): Promise<void> {
  const leaked: {
    id: string;
    organization_id: string;
    environment: string;
    external_user_id: string;
    key_revoked_at: number;
  }[] = await db
    .selectFrom("session_tokens as t")
    .innerJoin("api_keys as k", "k.id", "t.api_key_id")
    .select(["t.id", "t.organization_id", "t.environment", "t.external_user_id", "k.revoked_at as key_revoked_at"])
    .where("t.revoked_at", "is", null)
    .where("k.revoked_at", "is not", null)
    .execute();
  const now = Date.now();
  for (const token of leaked) {
    await db
      .updateTable("session_tokens")
      .set({ revoked_at: now, revocation_reason: "key_revoked" })
      .where("id", "=", token.id)
      .execute();
    await db
      .insertInto("audit_events")
      .values({
        id: newId("evt", now),
        organization_id: token.organization_id,
        environment: token.environment,
        occurred_at: now,
        action: "session_token.revoked_by_key_revocation",
        actor_type: "operator",
        actor_id: null,
        subject_id: token.id,
        external_user_id: token.external_user_id,
        details: JSON.stringify({ keyRevokedAt: new Date(Number(token.key_revoked_at)).toISOString() }),
      })
      .execute();
  }
}

export async function down(): Promise<void> {
  // The tokens stay revoked: un-revoking them would make tokens of a revoked key valid again.
}
