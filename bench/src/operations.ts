/** The HTTP requests a bench run can measure (`--ops`). */
export const OPERATIONS = ["verify", "verify-distinct", "verify-revoked", "create", "create-keyed", "revoke"] as const;
export type Operation = (typeof OPERATIONS)[number];
