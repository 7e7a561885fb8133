import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { initTRPC } from "@trpc/server";
import { z } from "zod";
import { createFastTRPCHandler } from "./src/http/fast-trpc-handler.js";

const mode = process.env.MODE!;
const answer = { valid: true, tokenId: "tok_01jabcdefghjkmnpqrstvwxyz0", customer: { externalUserId: "user_1", externalOrganizationId: null, email: "user1@example.com" }, allowedOperations: null, expiresAt: "2026-12-03T19:00:00.000Z", metadata: { ip: "203.0.113.9" } };
const t = initTRPC.context<Record<string, unknown>>().create();
const mw = t.procedure.use(async ({ next }) => next({ ctx: { apiKey: { id: "k", organizationId: "o", environment: "test" } } }));
const router = t.router({
  v: (mode === "trpc-auth" ? mw : t.procedure).input(z.strictObject({ sessionToken: z.string() })).mutation(() => (mode === "trpc-small" ? { valid: false, reason: "revoked" } : answer)),
});
const handler = createFastTRPCHandler({ router, createContext: (req) => ({ db: 1, clock: 2, logger: 3, environments: 4, createRateLimiter: 5, authorization: req.headers.authorization, setResponseHeader: () => {} }), maxBodySize: 1e6, maxBatchSize: 10, onError: () => {} });
const body = JSON.stringify({ result: { data: answer } });
const server = createServer((req, res) => {
  if (mode === "get") {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  } else if (mode === "post") {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString());
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  } else {
    const url = req.url!;
    handler(req, res, "v", "");
  }
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.once("SIGTERM", () => server.close(() => process.exit(0)));
