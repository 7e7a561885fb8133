import { ENVIRONMENTS, type Environment } from "@billingos/contracts";
import { type Command, Option } from "commander";
import { unbindCustomer } from "../customers/customer-unbinding.js";
import { bindCustomerManually } from "../customers/customers.service.js";
import { systemClock } from "../shared/clock.js";
import { type CustomerCommandContext, externalUserId, OPERATOR, scopeOf, stripeCustomerId } from "./admin-options.js";
import { addLookupCommands } from "./customer-lookup-commands.js";

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
  const customers = program
    .command("customers")
    .description(
      "look up a customer (binding, tokens, audit trail), revoke its tokens, bind or unbind an imported Stripe customer",
    );
  const inScope = (command: Command) =>
    command
      .requiredOption(
        "--org <name or id>",
        "the organization: its exact name or its id (org_…)",
        context.organizationName,
      )
      .addOption(new Option("--env <environment>", "environment").choices(ENVIRONMENTS).makeOptionMandatory());
  const scoped = (command: Command) =>
    inScope(command).requiredOption("--stripe-customer <id>", "the imported Stripe customer (cus_…)", stripeCustomerId);
  addLookupCommands(customers, inScope, context);

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
      context.out(
        `Bound ${customer.stripeCustomerId} to user ${JSON.stringify(customer.externalUserId)} (${customer.boundBy}).`,
      );
    });
}
