import { auditRouter } from "../audit/audit.router.js";
import { customersRouter } from "../customers/customers.router.js";
import { sessionRouter } from "../session-tokens/session.router.js";
import { sessionTokensRouter } from "../session-tokens/session-tokens.router.js";
import { router } from "./trpc.js";

export const appRouter = router({
  sessionTokens: sessionTokensRouter,
  customers: customersRouter,
  audit: auditRouter,
  /** Customer-facing: called from browsers with a session token. */
  session: sessionRouter,
});

export type AppRouter = typeof appRouter;
