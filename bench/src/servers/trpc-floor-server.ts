import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createFastTRPCHandler } from "@billingos/server";
import { initTRPC } from "@trpc/server";
import { z } from "zod";

/**
 * The floor under verify over HTTP: the service's own node:http handler and tRPC, with a procedure
 * of verify's shape (one middleware adding the caller to the context, a zod input, the same answer)
 * that does none of verify's work: no SQLite, no hashing. What verify costs above this is its own.
 */
const answer = {
  valid: true,
  tokenId: "tok_01jz0000000000000000000000",
  environment: "test",
  customer: { externalUserId: "user_1", externalOrganizationId: null, email: "user1@example.com" },
  allowedOperations: null,
  expiresAt: "2026-12-03T19:00:00.000Z",
  metadata: { ip: "203.0.113.9" },
};

const t = initTRPC.context<{ authorization: string | undefined }>().create({ isDev: false });
const withCaller = t.procedure.use(({ ctx, next }) =>
  next({
    ctx: { apiKey: { id: "key_floor", organizationId: "org_floor", hasHeader: ctx.authorization !== undefined } },
  }),
);
const router = t.router({
  sessionTokens: t.router({
    verify: withCaller.input(z.strictObject({ sessionToken: z.string() })).mutation(() => answer),
  }),
});
const handle = createFastTRPCHandler({
  router,
  createContext: (req) => ({ authorization: req.headers.authorization }),
  maxBodySize: 1024 * 1024,
  maxBatchSize: 10,
  onError: () => {},
});

const server = createServer((req, res) => {
  const url = req.url ?? "/";
  if (
    !url.startsWith("/trpc/") ||
    !handle(req, res, decodeURIComponent(url.slice("/trpc/".length).split("?")[0]!), "")
  ) {
    res.writeHead(404).end();
  }
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
