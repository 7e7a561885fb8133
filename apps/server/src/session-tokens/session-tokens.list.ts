import type { listSessionTokensInput, SessionTokenPage, SessionTokenStatus } from "@billingos/contracts";
import type { z } from "zod";
import { keysetPage } from "../shared/keyset-page.js";
import type { Scope } from "../shared/scope.js";
import type { SessionTokenDeps } from "./session-tokens.deps.js";
import { listSessionTokensOfCustomer } from "./session-tokens.repository.js";
import type { SessionTokenRow } from "./session-tokens.table.js";
import { parseMetadata, parseOperations } from "./stored-json.js";

function statusOf(row: SessionTokenRow, now: number): SessionTokenStatus {
  if (row.revoked_at !== null) return "revoked";
  return now >= row.expires_at ? "expired" : "active";
}

export async function listSessionTokens(
  { store, clock }: SessionTokenDeps,
  scope: Scope,
  input: z.output<typeof listSessionTokensInput>,
): Promise<SessionTokenPage> {
  const now = clock.now();
  return keysetPage(
    input.limit,
    (fetchLimit) =>
      listSessionTokensOfCustomer(store, scope, {
        externalUserId: input.externalUserId,
        activeAt: input.status === "active" ? now : null,
        before: input.cursor ?? null,
        limit: fetchLimit,
      }),
    (row) => ({
      tokenId: row.id,
      status: statusOf(row, now),
      customer: {
        externalUserId: row.external_user_id,
        externalOrganizationId: row.external_organization_id,
        email: row.email,
      },
      allowedOperations: parseOperations(row.allowed_operations),
      metadata: parseMetadata(row.metadata),
      createdAt: new Date(row.created_at),
      expiresAt: new Date(row.expires_at),
      revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    }),
  );
}
