import { type AuditAction, auditAction } from "@billingos/contracts";
import { type ExpressionBuilder, sql } from "kysely";
import type { DatabaseSchema } from "../store/schema.js";
import type { Store } from "../store/store.js";

/** Events looked at per write transaction: a large purge never holds the write lock for long. */
export const AUDIT_PURGE_BATCH = 1_000;

const ofFamily = (prefix: string): AuditAction[] => auditAction.options.filter((action) => action.startsWith(prefix));

/**
 * Which old events may go, by what they are about. An event past the audit retention is deleted only
 * once its subject no longer stands, so the history of anything still in force stays whole:
 * - a token's events (created, revoked…) while its row is stored (live, or kept for listing);
 * - a customer's binding events while that customer is bound to that same user;
 * - a key's events while the key exists (keys are never deleted, revoked ones included);
 * - an import's report has no standing subject (its customers' bindings have their own events):
 *   it goes by age alone.
 * An action in none of these families (one added later) is kept until a rule says otherwise.
 */
const TOKEN_ACTIONS = ofFamily("session_token.");
const BINDING_ACTIONS = ofFamily("customer.");
const KEY_ACTIONS = ofFamily("api_key.");
const AGE_ONLY_ACTIONS: AuditAction[] = ["customers.imported"];

type AuditEvents = ExpressionBuilder<DatabaseSchema, "audit_events">;

const ONE = sql.lit(1).as("one");

function subjectGone(eb: AuditEvents) {
  const tokenStored = eb
    .selectFrom("session_tokens")
    .select(ONE)
    .whereRef("session_tokens.id", "=", "audit_events.subject_id");
  const bindingStands = eb
    .selectFrom("imported_customers")
    .select(ONE)
    .whereRef("imported_customers.organization_id", "=", "audit_events.organization_id")
    .whereRef("imported_customers.environment", "=", "audit_events.environment")
    .whereRef("imported_customers.stripe_customer_id", "=", "audit_events.subject_id")
    .whereRef("imported_customers.external_user_id", "=", "audit_events.external_user_id");
  const keyExists = eb.selectFrom("api_keys").select(ONE).whereRef("api_keys.id", "=", "audit_events.subject_id");
  return eb.or([
    eb.and([eb("action", "in", TOKEN_ACTIONS), eb.not(eb.exists(tokenStored))]),
    eb.and([eb("action", "in", BINDING_ACTIONS), eb.not(eb.exists(bindingStands))]),
    eb.and([eb("action", "in", KEY_ACTIONS), eb.not(eb.exists(keyExists))]),
    eb("action", "in", AGE_ONLY_ACTIONS),
  ]);
}

/**
 * Deletes audit events older than `cutoff` whose subject no longer stands; returns how many. Old
 * events are walked in (occurred_at, id) order, AUDIT_PURGE_BATCH at a time, each window in its own
 * short write transaction (the rule is checked under the write lock, so a subject that comes back
 * meanwhile keeps its events); the next window starts after the last event of the previous one, so
 * kept events are passed over once per purge. Other writers get the lock between windows.
 */
export async function purgeAuditEvents(store: Store, cutoff: number): Promise<number> {
  let after: { occurred_at: number; id: string } | undefined;
  let deleted = 0;
  for (;;) {
    const window = await store.transaction(async (trx) => {
      let query = trx.kysely
        .selectFrom("audit_events")
        .select(["occurred_at", "id"])
        .where("occurred_at", "<", cutoff)
        .orderBy("occurred_at")
        .orderBy("id")
        .limit(AUDIT_PURGE_BATCH);
      if (after !== undefined) {
        const from = after;
        query = query.where((eb) => eb(eb.refTuple("occurred_at", "id"), ">", eb.tuple(from.occurred_at, from.id)));
      }
      const events = await query.execute();
      if (events.length === 0) return { events, deleted: 0 };
      const result = await trx.kysely
        .deleteFrom("audit_events")
        .where(
          "id",
          "in",
          events.map((event) => event.id),
        )
        .where(subjectGone)
        .executeTakeFirst();
      return { events, deleted: Number(result.numDeletedRows) };
    });
    deleted += window.deleted;
    if (window.events.length < AUDIT_PURGE_BATCH) return deleted;
    after = window.events.at(-1);
    // Let requests waiting on this process's connection run between windows.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
