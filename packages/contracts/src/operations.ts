import { z } from "zod";

/** The one list of customer-facing operations a session token can be scoped to. */
export const OPERATIONS = ["customer:read", "session:read", "session:revoke"] as const;

/** Only something shaped like an operation name is repeated back: a pasted token must not be. */
const ECHOABLE = /^[a-z][a-z_-]{0,30}:[a-z][a-z_-]{0,30}$/;

export const operation = z.enum(OPERATIONS, {
  error: (issue) =>
    `Unknown operation${typeof issue.input === "string" && ECHOABLE.test(issue.input) ? ` "${issue.input}"` : ""}. ` +
    `Valid operations: ${OPERATIONS.join(", ")}`,
});
export type Operation = z.infer<typeof operation>;
