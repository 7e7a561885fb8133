import type { Environment } from "@billingos/contracts";

/** The organization and environment a query is confined to: test and live never meet. */
export interface Scope {
  organizationId: string;
  environment: Environment;
}
