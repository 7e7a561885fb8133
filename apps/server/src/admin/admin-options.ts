import { type Environment, externalId, stripeCustomerId as stripeCustomerIdSchema } from "@billingos/contracts";
import { InvalidArgumentError } from "commander";
import type { z } from "zod";
import { resolveOrganization } from "../organizations/organizations.service.js";
import type { Scope } from "../shared/scope.js";
import type { Store } from "../store/store.js";

// What the customer commands share: option parsers, the operator as actor, the scope an operator names.

/** What the customer commands need from the CLI around them. */
export interface CustomerCommandContext {
  database(): Promise<Store>;
  out(line: string): void;
  organizationName(value: string): string;
}

export const OPERATOR = { type: "operator", id: null } as const;

/** An option parser from a contracts schema: the operator gets the message the API would give. */
export const parsedWith =
  <T>(schema: z.ZodType<T>) =>
  (value: string): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]!.message);
    return parsed.data;
  };

export const stripeCustomerId = parsedWith(stripeCustomerIdSchema);
export const externalUserId = parsedWith(externalId("externalUserId"));

/** An existing organization's scope: an operator's typo must not create an organization here. */
export async function scopeOf(store: Store, organization: string, environment: Environment): Promise<Scope> {
  return { organizationId: (await resolveOrganization(store, organization)).id, environment };
}
