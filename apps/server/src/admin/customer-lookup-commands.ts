import { type ImportedCustomer, type UnresolvedReason, unresolvedReason } from "@billingos/contracts";
import { type Command, InvalidArgumentError, Option } from "commander";
import { toAuditEvent } from "../audit/audit.mapper.js";
import { listAuditEventsOfCustomer } from "../audit/audit.repository.js";
import { getCustomer, listUnresolved } from "../customers/customers.service.js";
import { listSessionTokens } from "../session-tokens/session-tokens.list.js";
import { revokeCustomerSessionTokens } from "../session-tokens/session-tokens.revoke.js";
import { systemClock } from "../shared/clock.js";
import { keysetPage } from "../shared/keyset-page.js";
import { type CustomerCommandContext, externalUserId, OPERATOR, scopeOf, stripeCustomerId } from "./admin-options.js";

/**
 * What an operator needs to help a customer without writing code, through the same services as
 * the merchant API: the customer's binding, tokens and audit trail, revoking its tokens (audited
 * as the operator's), and the imported customers still waiting for a binding.
 */

interface ScopeOptions {
  org: string;
  env: "test" | "live";
}

function limit(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < 1 || number > 100)
    throw new InvalidArgumentError("a whole number from 1 to 100");
  return number;
}

const iso = (date: Date | null) => (date === null ? "-" : date.toISOString());

function customerLines(customer: ImportedCustomer): string[] {
  return [
    `stripe customer: ${customer.stripeCustomerId} (${customer.environment})`,
    `email:           ${customer.email ?? "-"}`,
    `name:            ${customer.name ?? "-"}`,
    customer.externalUserId === null
      ? "bound to:        nobody (unresolved)"
      : `bound to:        user ${JSON.stringify(customer.externalUserId)} (${customer.boundBy}, ${iso(customer.boundAt)})`,
    `imported:        ${iso(customer.importedAt)}`,
    `metadata:        ${customer.metadata === null ? "-" : JSON.stringify(customer.metadata)}`,
  ];
}

export function addLookupCommands(
  customers: Command,
  inScope: (command: Command) => Command,
  context: CustomerCommandContext,
): void {
  const user = (command: Command) =>
    command.requiredOption("--user <externalUserId>", "the merchant's user id", externalUserId);

  inScope(customers.command("show"))
    .description("show an imported Stripe customer and its binding, by Stripe id or by the user it is bound to")
    .option("--stripe-customer <id>", "the imported Stripe customer (cus_…)", stripeCustomerId)
    .option("--user <externalUserId>", "the merchant's user id it is bound to", externalUserId)
    .action(async (options: ScopeOptions & { stripeCustomer?: string; user?: string }, command: Command) => {
      if ((options.stripeCustomer === undefined) === (options.user === undefined)) {
        command.error("error: give exactly one of --stripe-customer <id> and --user <externalUserId>");
      }
      const store = await context.database();
      const scope = await scopeOf(store, options.org, options.env);
      const customer = await getCustomer(
        { store, clock: systemClock },
        scope,
        options.stripeCustomer !== undefined
          ? { stripeCustomerId: options.stripeCustomer }
          : { externalUserId: options.user! },
      );
      for (const line of customerLines(customer)) context.out(line);
    });

  user(inScope(customers.command("tokens")))
    .description("list a customer's session tokens, newest first (active ones unless --all)")
    .option("--all", "also expired and revoked tokens", false)
    .option("--limit <n>", "at most this many (1–100)", limit, 100)
    .action(async (options: ScopeOptions & { user: string; all: boolean; limit: number }) => {
      const store = await context.database();
      const scope = await scopeOf(store, options.org, options.env);
      const page = await listSessionTokens({ store, clock: systemClock }, scope, {
        externalUserId: options.user,
        status: options.all ? "all" : "active",
        limit: options.limit,
      });
      if (page.data.length === 0)
        return context.out(
          `No ${options.all ? "" : "active "}session tokens for user ${JSON.stringify(options.user)}.`,
        );
      for (const token of page.data) {
        context.out(
          [
            token.tokenId,
            token.status,
            `created ${iso(token.createdAt)}`,
            `expires ${iso(token.expiresAt)}`,
            ...(token.revokedAt === null ? [] : [`revoked ${iso(token.revokedAt)}`]),
            `operations ${token.allowedOperations === null ? "all" : token.allowedOperations.join(",")}`,
          ].join("  "),
        );
      }
      if (page.nextCursor !== null) context.out(`(more: only the newest ${options.limit} are shown)`);
    });

  user(inScope(customers.command("revoke-tokens")))
    .description("revoke every active session token of a customer at once (audited as the operator's)")
    .action(async (options: ScopeOptions & { user: string }) => {
      const store = await context.database();
      const scope = await scopeOf(store, options.org, options.env);
      const result = await revokeCustomerSessionTokens(
        { store, clock: systemClock },
        scope,
        { externalUserId: options.user },
        OPERATOR,
      );
      context.out(
        `Revoked ${result.revokedCount} session token(s) of user ${JSON.stringify(options.user)} at ${iso(result.revokedAt)}.`,
      );
    });

  user(inScope(customers.command("audit")))
    .description("show a customer's audit trail, newest first")
    .option("--limit <n>", "at most this many events (1–100)", limit, 50)
    .action(async (options: ScopeOptions & { user: string; limit: number }) => {
      const store = await context.database();
      const scope = await scopeOf(store, options.org, options.env);
      const page = await keysetPage(
        options.limit,
        (fetchLimit) =>
          listAuditEventsOfCustomer(store, scope, { externalUserId: options.user, before: null, limit: fetchLimit }),
        toAuditEvent,
      );
      if (page.data.length === 0) return context.out(`No audit events for user ${JSON.stringify(options.user)}.`);
      for (const event of page.data) {
        const actor = event.actor.id === null ? event.actor.type : `${event.actor.type} ${event.actor.id}`;
        const details = event.details === null ? "" : `  ${JSON.stringify(event.details)}`;
        context.out(`${iso(event.occurredAt)}  ${event.action}  ${event.subjectId}  by ${actor}${details}`);
      }
      if (page.nextCursor !== null) context.out(`(more: only the newest ${options.limit} are shown)`);
    });

  inScope(customers.command("unresolved"))
    .description("list imported customers not bound to a user yet, with the reason")
    .addOption(new Option("--reason <reason>", "only this reason").choices(unresolvedReason.options))
    .option("--limit <n>", "at most this many (1–100)", limit, 100)
    .action(async (options: ScopeOptions & { reason?: UnresolvedReason; limit: number }) => {
      const store = await context.database();
      const scope = await scopeOf(store, options.org, options.env);
      const page = await listUnresolved({ store, clock: systemClock }, scope, {
        reason: options.reason,
        limit: options.limit,
      });
      if (page.data.length === 0) return context.out("No unresolved customers.");
      for (const customer of page.data) {
        context.out(
          [
            customer.stripeCustomerId,
            customer.reason,
            customer.email ?? "-",
            customer.name === null ? "-" : JSON.stringify(customer.name),
          ].join("  "),
        );
      }
      if (page.nextCursor !== null) context.out(`(more: only the first ${options.limit} are shown)`);
    });
}
