import { z } from "zod";

/** The one list of customer-facing operations a session token can be scoped to. */
export const OPERATIONS = ["customer:read", "session:read", "session:revoke"] as const;

export const operation = z.enum(OPERATIONS, {
  error: (issue) =>
    `Unknown operation ${JSON.stringify(issue.input)}. Valid operations: ${OPERATIONS.join(", ")}`,
});
export type Operation = z.infer<typeof operation>;
