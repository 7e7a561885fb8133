import type { Environment } from "@billingos/contracts";

/** The caller of a merchant-API procedure, once its secret key has been checked. */
export interface AuthenticatedKey {
  id: string;
  organizationId: string;
  environment: Environment;
}
