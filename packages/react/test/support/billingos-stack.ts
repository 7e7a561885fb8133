import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BillingOS, type Operation } from "@billingos/node";
import {
  type Clock,
  createApiKey,
  createLogger,
  type RunningHttpServer,
  type Store,
  startHttpServer,
} from "@billingos/server";
import { openTestStore } from "@billingos/server/testing";

// The real parts the provider talks to: a BillingOS server on port 0 over a fresh, migrated
// database, and the merchant's session route (POST hands out a token, DELETE revokes every token
// of the signed-in customer) on a port of its own, calling that server with the real node client.
// Nothing is mocked; only the merchant's own sign-in is a variable the test sets.

/** A clock whose offset from real time the test moves: tokens made "in the past" expire soon in real time. */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export interface RouteSettings {
  /** Who the merchant app says is signed in; null answers 401. */
  user: { id: string; email?: string } | null;
  expiresIn?: number;
  allowedOperations?: Operation[];
  /** Hand out tokens that are revoked before the browser gets them (BillingOS will refuse them). */
  revokeBeforeHanding?: boolean;
  /** Answer POST with this status instead (a broken backend). */
  failWith?: number;
  /** How long POST takes, so that callers asking at once overlap. */
  delayMs?: number;
}

export interface SessionRoute {
  /** The route's URL, for the provider's sessionRoute. */
  url: string;
  settings: RouteSettings;
  /** Tokens handed out, in order. */
  handedOut: { sessionToken: string; expiresAt: string; at: number }[];
  /** Most POSTs in progress at the same moment. */
  maxConcurrentPosts: number;
  deletes: number;
}

export interface BillingOSStack {
  store: Store;
  server: RunningHttpServer;
  serverUrl: string;
  clock: OffsetClock;
  merchant: BillingOS;
  route: SessionRoute;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startBillingOSStack(settings: RouteSettings): Promise<BillingOSStack> {
  const clock = new OffsetClock();
  const store = await openTestStore();
  const server = await startHttpServer({
    deps: { store, clock, logger: createLogger("silent") },
    port: 0,
    host: "127.0.0.1",
  });
  const { secretKey } = await createApiKey(store, clock, { organizationName: "Acme", environment: "test" });
  const merchant = new BillingOS({ secretKey, sandboxUrl: server.url, productionUrl: server.url });

  let posts = 0;
  const route: SessionRoute = { url: "", settings, handedOut: [], maxConcurrentPosts: 0, deletes: 0 };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const { user } = route.settings;
    if (req.method === "DELETE") {
      route.deletes += 1;
      if (user === null) return send(res, 401, { error: "Not signed in" });
      const revoked = await merchant.revokeCustomerSessionTokens({ externalUserId: user.id });
      return send(res, 200, revoked);
    }
    if (req.method !== "POST") return send(res, 405, { error: "POST or DELETE" });
    posts += 1;
    route.maxConcurrentPosts = Math.max(route.maxConcurrentPosts, posts);
    try {
      await new Promise((resolve) => setTimeout(resolve, route.settings.delayMs ?? 20));
      if (route.settings.failWith !== undefined) return send(res, route.settings.failWith, { error: "broken" });
      if (user === null) return send(res, 401, { error: "Not signed in" });
      const created = await merchant.createSessionToken({
        externalUserId: user.id,
        email: user.email ?? null,
        ...(route.settings.expiresIn === undefined ? {} : { expiresIn: route.settings.expiresIn }),
        ...(route.settings.allowedOperations === undefined
          ? {}
          : { allowedOperations: route.settings.allowedOperations }),
      });
      if (route.settings.revokeBeforeHanding) await merchant.revokeSessionToken(created.tokenId);
      const answer = { sessionToken: created.sessionToken, expiresAt: created.expiresAt.toISOString() };
      route.handedOut.push({ ...answer, at: Date.now() });
      return send(res, 200, answer);
    } finally {
      posts -= 1;
    }
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  route.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/billingos-session`;

  return {
    store,
    server,
    serverUrl: server.url,
    clock,
    merchant,
    route,
    close: async () => {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
      await server.close(1_000);
      await store.close();
    },
  };
}

/** The customer's tokens that BillingOS would still accept. */
export async function activeTokensOf(merchant: BillingOS, externalUserId: string): Promise<string[]> {
  const page = await merchant.listSessionTokens({ externalUserId });
  return page.data.filter((token) => token.status === "active").map((token) => token.tokenId);
}
