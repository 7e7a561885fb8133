import {
  type bindCustomerInput,
  type CustomersImported,
  type getCustomerInput,
  type ImportedCustomer,
  type importCustomersInput,
  type listUnresolvedCustomersInput,
  MAX_EXTERNAL_ID_LENGTH,
  normalizeEmail,
  PRE_BIND_METADATA_KEYS,
  type UnresolvedCounts,
  type UnresolvedCustomerPage,
} from "@billingos/contracts";
import { setImmediate } from "node:timers/promises";
import type { z } from "zod";
import { assertActorStillActive } from "../api-keys/api-key-still-active.js";
import type { AuthenticatedKey } from "../api-keys/authenticated-key.js";
import { type AuditEntry, recordAuditEvent } from "../audit/audit.repository.js";
import { lockCustomersOf } from "./customer-scope-lock.js";
import { recordBinding } from "./customer-binding-audit.js";
import { rollbackWith } from "../store/rollback.js";
import { DomainError } from "../shared/domain-error.js";
import { newId } from "../shared/ids.js";
import { keysetPage } from "../shared/keyset-page.js";
import type { Scope } from "../shared/scope.js";
import type { CustomerDeps } from "./customer-deps.js";
import { customerNotFound, undoBinding } from "./customer-unbinding.js";
import { toImportedCustomer } from "./customers.mapper.js";
import {
  adjustUnresolvedCount,
  bindCustomer,
  findCustomerBoundTo,
  findCustomerByStripeId,
  insertCustomerToImport,
  listUnresolvedCustomers,
  markSharedEmails,
  unresolvedReasonsOf,
  updateCustomerToImport,
} from "./imported-customers.repository.js";

export const actorOf = (key: AuthenticatedKey): AuditEntry["actor"] => ({ type: "api_key", id: key.id });

/** The merchant's user id carried in Stripe metadata, under the first key of PRE_BIND_METADATA_KEYS that has one. */
export function externalUserIdFromMetadata(metadata: Record<string, string> | null | undefined): string | null {
  if (!metadata) return null;
  for (const key of PRE_BIND_METADATA_KEYS) {
    const value = metadata[key]?.trim();
    if (value && value.length <= MAX_EXTERNAL_ID_LENGTH) return value;
  }
  return null;
}

/**
 * Rows an import works through before it lets the event loop run other requests' callbacks
 * (verifications, health checks): better-sqlite3 is synchronous, so a batch of 1,000 rows would
 * otherwise hold the loop for its whole run (~35 ms here, and ten such calls in one batched request
 * ~345 ms). 100 rows take a few milliseconds.
 */
const ROWS_BETWEEN_YIELDS = 100;

/**
 * Upserts a batch by Stripe id in one write transaction. New and unbound customers take the
 * batch's email, name and metadata; bound customers are never changed (nor unbound). A customer
 * whose metadata names a user id not yet bound elsewhere is bound at once ("metadata").
 *
 * The batch stays one transaction, all or nothing (a crash mid-import leaves none of it, the report
 * and the audit event are exact, a dry run sees its own earlier rows), and yields to the event loop
 * every ROWS_BETWEEN_YIELDS rows. Meanwhile it keeps the write lock, so other writes wait for it:
 * at most one batch (1,000 rows, a few tens of milliseconds), as a request carries at most that many
 * rows (import-procedure.ts) and the rows per minute are limited per key. The hot reads (verify,
 * key lookup) do not wait: they run on the reader connection.
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
    const report = { created: 0, updated: 0, unchanged: 0, preBound: 0 };
    let unresolvedDelta = 0;
    /** The customers this import leaves unbound. */
    const touched = new Set<string>();

    for (const [index, customer] of input.customers.entries()) {
      if (index > 0 && index % ROWS_BETWEEN_YIELDS === 0) await setImmediate();
      const fields = {
        email: customer.email ?? null,
        email_normalized: normalizeEmail(customer.email),
        name: customer.name ?? null,
        metadata: customer.metadata ? JSON.stringify(customer.metadata) : null,
        stripe_created_at: customer.createdAt ? customer.createdAt.getTime() : null,
      };
      const existing = await findCustomerByStripeId(trx, scope, customer.stripeCustomerId);
      let id: string;
      if (existing === undefined) {
        id = newId("imp", now);
        await insertCustomerToImport(trx, {
          id,
          organization_id: scope.organizationId,
          environment: scope.environment,
          stripe_customer_id: customer.stripeCustomerId,
          ...fields,
          imported_at: now,
          updated_at: now,
          external_user_id: null,
          bound_at: null,
          bound_by: null,
        });
        report.created++;
        unresolvedDelta++;
      } else if (existing.external_user_id !== null) {
        report.unchanged++;
        continue;
      } else {
        id = existing.id;
        const changed = (Object.keys(fields) as (keyof typeof fields)[]).some((key) => existing[key] !== fields[key]);
        if (changed) {
          await updateCustomerToImport(trx, id, { ...fields, updated_at: now });
          report.updated++;
        } else {
          report.unchanged++;
        }
      }

      const externalUserId = externalUserIdFromMetadata(customer.metadata);
      // A customer whose binding the merchant undid binds only by hand, even from metadata.
      const bindable = existing?.unbound_at == null;
      if (bindable && externalUserId !== null && (await findCustomerBoundTo(trx, scope, externalUserId)) === undefined) {
        await bindCustomer(trx, id, { externalUserId, method: "metadata", now });
        await recordBinding(
          trx,
          scope,
          { stripe_customer_id: customer.stripeCustomerId, externalUserId, method: "metadata", actor },
          now,
        );
        report.preBound++;
        unresolvedDelta--;
        // The same Stripe id earlier in the batch left it unbound; it no longer is.
        touched.delete(id);
      } else {
        touched.add(id);
      }
    }

    await adjustUnresolvedCount(trx, scope, unresolvedDelta);
    // Marked once every row is written: a later row of the batch may share an earlier one's email.
    const leftUnbound = [...touched];
    await markSharedEmails(trx, leftUnbound, now);
    const unresolved: UnresolvedCounts = { awaiting_first_session: 0, no_email: 0, email_shared: 0, binding_undone: 0 };
    for (const reason of await unresolvedReasonsOf(trx, leftUnbound)) unresolved[reason]++;

    const result = { dryRun: input.dryRun ?? false, ...report, unresolved };
    if (input.dryRun) return rollbackWith(result);
    await recordAuditEvent(trx, scope, { action: "customers.imported", actor, details: { ...report, unresolved } }, now);
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
      listUnresolvedCustomers(store, scope, { reason: input.reason ?? null, after: input.cursor ?? null, limit: fetchLimit }),
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
      await undoBinding(trx, scope, { ...customer, external_user_id: previousUser }, { actor, reboundTo: input.externalUserId }, now);
    } else {
      await adjustUnresolvedCount(trx, scope, -1);
    }
    await bindCustomer(trx, customer.id, { externalUserId: input.externalUserId, method: "manual", now });
    await recordBinding(
      trx,
      scope,
      { stripe_customer_id: customer.stripe_customer_id, externalUserId: input.externalUserId, method: "manual", actor },
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
