/**
 * The environment names as plain values, with no zod: token prefixes and routing (token-format.ts,
 * api-url-routing.ts) use them, and a browser bundle that only routes must not pull in zod.
 */
export const ENVIRONMENT_NAMES = ["test", "live"] as const;
