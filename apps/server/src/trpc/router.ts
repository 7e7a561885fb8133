import { sessionTokensRouter } from "../session-tokens/session-tokens.router.js";
import { router } from "./trpc.js";

export const appRouter = router({
  sessionTokens: sessionTokensRouter,
});

export type AppRouter = typeof appRouter;
