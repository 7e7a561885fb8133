import { customersRouter } from "../customers/customers.router.js";
import { sessionTokensRouter } from "../session-tokens/session-tokens.router.js";
import { router } from "./trpc.js";

export const appRouter = router({
  sessionTokens: sessionTokensRouter,
  customers: customersRouter,
});

export type AppRouter = typeof appRouter;
