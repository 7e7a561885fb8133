// What other workspace packages (the node client's tests, benchmarks) use of the server.

export { authenticateSecretKey, createApiKey, revokeApiKey } from "./api-keys/api-keys.service.js";
export type { AuthenticatedKey } from "./api-keys/authenticated-key.js";
export { importCustomers } from "./customers/customers.service.js";
export { createFastTRPCHandler } from "./http/fast-trpc-handler.js";
export { type RunningHttpServer, startHttpServer } from "./http/http-server.js";
export { verifySessionToken } from "./session-tokens/session-tokens.check.js";
export { createSessionToken } from "./session-tokens/session-tokens.create.js";
export { type Clock, ManualClock, systemClock } from "./shared/clock.js";
export { createLogger } from "./shared/logger.js";
export { openStore } from "./store/open-store.js";
export type { Store } from "./store/store.js";
export { createContextInner, type ServiceDeps } from "./trpc/context.js";
export type { AppRouter } from "./trpc/router.js";
export { appRouter } from "./trpc/router.js";
export { createCallerFactory } from "./trpc/trpc.js";
