import { setImmediate } from "node:timers/promises";
import type {
  bindCustomerInput,
  CustomersImported,
  getCustomerInput,
  ImportedCustomer,
  importCustomersInput,
  listUnresolvedCustomersInput,
  UnresolvedCounts,
  UnresolvedCustomerPage,
} from "@billingos/contracts";
import type { z } from "zod";
import { assertActorStillActive } from "../api-keys/api-key-still-active.js";
import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import type { AuditEntry } from "../audit/audit.repository.js";
import { DomainError } from "../shared/domain-error.js";
import { keysetPage } from "../shared/keyset-page.js";
import type { Scope } from "../shared/scope.js";
import { rollbackWith } from "../store/rollback.js";
import { recordBinding } from "./customer-binding-audit.js";
import type { CustomerDeps } from "./customer-deps.js";
import { lockCustomersOf } from "./customer-scope-lock.js";
import { customerNotFound, undoBinding } from "./customer-unbinding.js";
import { toImportedCustomer } from "./customers.mapper.js";
import { recordImportEvents } from "./import-audit.js";
import { keysOfBatch, planImport } from "./import-plan.js";
import {
  adjustUnresolvedCount,
  bindCustomer,
  findBoundUsers,
  findCustomerBoundTo,
  findCustomerByStripeId,
  findCustomersByStripeIds,
  listUnresolvedCustomers,
  markEmailsShared,
  unresolvedReasonsOf,
  writeImportedCustomers,
} from "./imported-customers.repository.js";
import type { ImportedCustomerRow } from "./imported-customers.table.js";

export const actorOf = (key: AuthenticatedKey): AuditEntry["actor"] => ({ type: "api_key", id: key.id });

/**
 * Upserts a batch by Stripe id in one write transaction. New and unbound customers take the
 * batch's email, name and metadata; bound customers are never changed (nor unbound). A customer
 * whose metadata names a user id not yet bound elsewhere is bound at once ("metadata").
 *
 * Set-based, the same on both engines: the batch's stored rows and taken user ids are read in one
 * statement per chunk of 500, every row's decision is taken in memory in batch order (import-plan.ts:
 * a later row of one Stripe id sees what an earlier one did), and only the rows that end up
 * different are written, again one statement per chunk. On PostgreSQL each statement is a round
 * trip; per-row statements made a 1,000-row batch some 3,000 of them.
 *
 * The batch stays one transaction, all or nothing (a crash mid-import leaves none of it, the report
 * and the audit event are exact), holding the scope's customer lock. A dry run writes as a real run
 * does, so that the report's reasons are the database's own, then rolls back. Between statements it
 * yields to the event loop, so that a synchronous SQLite statement never holds it for a whole batch
 * (other requests' verifications, health checks). At most one batch (1,000 rows) per request
 * (import-procedure.ts) and rows per minute are limited per key.
 */
export async function importCustomers(
  { store, clock }: CustomerDeps,
  scope: AuthenticatedKey,
  input: z.output<typeof importCustomersInput>,
): Promise<CustomersImported> {
  const actor = actorOf(scope);
  return store.transaction(async (trx) => {
    await assertActorStillActive(trx, actor);
    await lockCustomersOf(trx, scope);
    const now = clock.now();
    const { stripeIds, externalUserIds } = keysOfBatch(input.customers);
    const existing = new Map<string, ImportedCustomerRow>();
    for (const row of await findCustomersByStripeIds(trx, scope, stripeIds)) existing.set(row.stripe_customer_id, row);
    const boundUsers = new Set(externalUserIds.length === 0 ? [] : await findBoundUsers(trx, scope, externalUserIds));

    const plan = planImport(scope, input.customers, { existing, boundUsers }, now);
    await setImmediate();
    await writeImportedCustomers(trx, [...plan.inserts, ...plan.updates], false);
    if (plan.boundUpdates.length > 0) await writeImportedCustomers(trx, plan.boundUpdates, true);
    await setImmediate();
    await adjustUnresolvedCount(trx, scope, plan.unresolvedDelta);
    // Marked once every row is written: a later row of the batch may share an earlier one's email.
    const emailsLeftUnbound = new Set<string>();
    for (const row of plan.leftUnbound) if (row.email_normalized !== null) emailsLeftUnbound.add(row.email_normalized);
    await markEmailsShared(trx, scope, [...emailsLeftUnbound], now);
    const unresolved: UnresolvedCounts = { awaiting_first_session: 0, no_email: 0, email_shared: 0, binding_undone: 0 };
    const leftUnboundIds = plan.leftUnbound.map((row) => row.id);
    for (const reason of await unresolvedReasonsOf(trx, leftUnboundIds)) unresolved[reason]++;

    const { report } = plan;
    const result = { dryRun: input.dryRun ?? false, ...report, unresolved };
    if (input.dryRun) return rollbackWith(result);
    await recordImportEvents(trx, scope, { actor, bindings: plan.bindings, report: { ...report, unresolved } }, now);
    return result;
  });
}

export async function listUnresolved(
  { store }: CustomerDeps,
  scope: Scope,
  input: z.output<typeof listUnresolvedCustomersInput>,
): Promise<UnresolvedCustomerPage> {
  return keysetPage(
    input.limit,
    (fetchLimit) =>
      listUnresolvedCustomers(store, scope, {
        reason: input.reason ?? null,
        after: input.cursor ?? null,
        limit: fetchLimit,
      }),
    (row) => ({ ...toImportedCustomer(row), reason: row.reason }),
  );
}

/**
 * Binds a customer by hand. Binding it again to the same user is a no-op. A customer bound to
 * another user is a CONFLICT unless `rebind` is set: then, in this one write transaction, it is
 * unbound from that user and bound to this one (two audit events, the counter unchanged), so no
 * token creation can see or take it in between, as it could between an unbind and a bind call.
 * A user already bound to another customer is always a CONFLICT.
 */
export async function bindCustomerManually(
  { store, clock }: CustomerDeps,
  scope: Scope,
  input: z.output<typeof bindCustomerInput>,
  actor: AuditEntry["actor"],
): Promise<ImportedCustomer> {
  return store.transaction(async (trx) => {
    await assertActorStillActive(trx, actor);
    await lockCustomersOf(trx, scope);
    const customer = await findCustomerByStripeId(trx, scope, input.stripeCustomerId);
    if (customer === undefined) throw customerNotFound(scope, input.stripeCustomerId);
    const previousUser = customer.external_user_id;
    if (previousUser === input.externalUserId) return toImportedCustomer(customer);
    if (previousUser !== null && input.rebind !== true) {
      throw new DomainError(
        "CONFLICT",
        `${input.stripeCustomerId} is already bound to user ${JSON.stringify(previousUser)}; a bound customer is never re-bound silently (pass rebind: true to move it, or unbind it first)`,
      );
    }
    const other = await findCustomerBoundTo(trx, scope, input.externalUserId);
    if (other !== undefined) {
      throw new DomainError(
        "CONFLICT",
        `User ${JSON.stringify(input.externalUserId)} is already bound to ${other.stripe_customer_id}; a user is bound to one customer at most`,
      );
    }
    const now = clock.now();
    if (previousUser !== null) {
      await undoBinding(
        trx,
        scope,
        { ...customer, external_user_id: previousUser },
        { actor, reboundTo: input.externalUserId },
        now,
      );
    } else {
      await adjustUnresolvedCount(trx, scope, -1);
    }
    await bindCustomer(trx, customer.id, { externalUserId: input.externalUserId, method: "manual", now });
    await recordBinding(
      trx,
      scope,
      {
        stripe_customer_id: customer.stripe_customer_id,
        externalUserId: input.externalUserId,
        method: "manual",
        actor,
      },
      now,
    );
    return toImportedCustomer((await findCustomerByStripeId(trx, scope, input.stripeCustomerId))!);
  });
}

export async function getCustomer(
  { store }: CustomerDeps,
  scope: Scope,
  input: z.output<typeof getCustomerInput>,
): Promise<ImportedCustomer> {
  const row =
    input.stripeCustomerId !== undefined
      ? await findCustomerByStripeId(store, scope, input.stripeCustomerId)
      : await findCustomerBoundTo(store, scope, input.externalUserId!);
  if (row === undefined) {
    const what =
      input.stripeCustomerId !== undefined
        ? `imported customer ${input.stripeCustomerId}`
        : `imported customer bound to user ${JSON.stringify(input.externalUserId)}`;
    throw new DomainError("NOT_FOUND", `No ${what} in the ${scope.environment} environment`);
  }
  return toImportedCustomer(row);
}
