import type { Store } from "../store/store.js";
import { ENVIRONMENTS, type Environment, externalId, stripeCustomerId as stripeCustomerIdSchema } from "@billingos/contracts";
import type { z } from "zod";
import { type Command, InvalidArgumentError, Option } from "commander";
import { unbindCustomer } from "../customers/customer-unbinding.js";
import { bindCustomerManually } from "../customers/customers.service.js";
import type { Queryable } from "../store/queryable.js";
import { findOrganizationByName } from "../organizations/organizations.repository.js";
import { systemClock } from "../shared/clock.js";
import { DomainError } from "../shared/domain-error.js";
import type { Scope } from "../shared/scope.js";

/** What the customer commands need from the CLI around them. */
export interface CustomerCommandContext {
  database(): Promise<Store>;
  out(line: string): void;
  organizationName(value: string): string;
}

const OPERATOR = { type: "operator", id: null } as const;

/** An option parser from a contracts schema: the operator gets the message the API would give. */
const parsedWith =
  <T>(schema: z.ZodType<T>) =>
  (value: string): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]!.message);
    return parsed.data;
  };

const stripeCustomerId = parsedWith(stripeCustomerIdSchema);
const externalUserId = parsedWith(externalId("externalUserId"));

/** An existing organization's scope: an operator's typo must not create an organization here. */
async function scopeOf(store: Store, organizationName: string, environment: Environment): Promise<Scope> {
  const organization = await findOrganizationByName(store, organizationName);
  if (organization === undefined) throw new DomainError("NOT_FOUND", `No organization named ${JSON.stringify(organizationName)}`);
  return { organizationId: organization.id, environment };
}

interface ScopeOptions {
  org: string;
  env: Environment;
  stripeCustomer: string;
}

/**
 * `customers unbind` and `customers bind [--rebind]`: an operator undoes a wrong binding or moves
 * it, through the same services as the merchant API (same transaction, counter and audit events;
 * the actor is recorded as "operator").
 */
export function addCustomerCommands(program: Command, context: CustomerCommandContext): void {
  const customers = program.command("customers").description("undo or move the binding of an imported Stripe customer");
  const scoped = (command: Command) =>
    command
      .requiredOption("--org <name>", "organization name", context.organizationName)
      .addOption(new Option("--env <environment>", "environment").choices(ENVIRONMENTS).makeOptionMandatory())
      .requiredOption("--stripe-customer <id>", "the imported Stripe customer (cus_…)", stripeCustomerId);

  scoped(customers.command("unbind"))
    .description("undo a customer's binding; it then binds only by hand (reason binding_undone)")
    .action(async (options: ScopeOptions) => {
      const store = await context.database();
      const scope = await scopeOf(store, options.org, options.env);
      const { customer, previousExternalUserId } = await unbindCustomer(
        { store, clock: systemClock },
        scope,
        { stripeCustomerId: options.stripeCustomer },
        OPERATOR,
      );
      context.out(
        previousExternalUserId === null
          ? `${customer.stripeCustomerId} is not bound; nothing to undo.`
          : `Unbound ${customer.stripeCustomerId} from user ${JSON.stringify(previousExternalUserId)}. It now binds only by hand (customers bind).`,
      );
    });

  scoped(customers.command("bind"))
    .description("bind a customer to a user by hand; --rebind moves it from the user it is bound to")
    .requiredOption("--user <externalUserId>", "the merchant's user id to bind it to", externalUserId)
    .option("--rebind", "move the binding if the customer is bound to another user", false)
    .action(async (options: ScopeOptions & { user: string; rebind: boolean }) => {
      const store = await context.database();
      const scope = await scopeOf(store, options.org, options.env);
      const customer = await bindCustomerManually(
        { store, clock: systemClock },
        scope,
        { stripeCustomerId: options.stripeCustomer, externalUserId: options.user, rebind: options.rebind },
        OPERATOR,
      );
      context.out(`Bound ${customer.stripeCustomerId} to user ${JSON.stringify(customer.externalUserId)} (${customer.boundBy}).`);
    });
}
