import {
  type Clock,
  createApiKey,
  createLogger,
  type RunningHttpServer,
  type Store,
  startHttpServer,
  systemClock,
} from "@billingos/server";
import { openTestStore } from "@billingos/server/testing";
import { BillingOS } from "../src/index.js";
import { checkAnswersFrom } from "./support/openapi-conformance.js";

export type CreatedKey = Awaited<ReturnType<typeof createApiKey>>;

/** Where nothing listens: a client pointed here can only fail to connect. */
export const NOWHERE = "http://127.0.0.1:1";

/**
 * A real server on a real port over a fresh in-memory database, migrated with the real migrations.
 * Organization "Acme" has a test key and a live key.
 */
export interface ServerHarness {
  db: Store;
  server: RunningHttpServer;
  url: string;
  testKey: CreatedKey;
  liveKey: CreatedKey;
  /** Another key of the same organization and environment as `testKey`, or of another organization. */
  createKey(organizationName: string, environment: "test" | "live"): Promise<CreatedKey>;
  /** A client routed to this server whatever the key's environment. */
  client(secretKey: string): BillingOS;
  close(): Promise<void>;
}

export interface ServeOptions {
  clock?: Clock;
  corsOrigins?: readonly string[];
  environments?: readonly ("test" | "live")[];
}

/** A real HTTP server on port 0 over `db`, and a client routed to it whatever the key's environment. */
export async function serveDatabase(db: Store, { clock = systemClock, corsOrigins, environments }: ServeOptions = {}) {
  const server = await startHttpServer({
    deps: { store: db, clock, logger: createLogger("silent"), ...(environments === undefined ? {} : { environments }) },
    port: 0,
    host: "127.0.0.1",
    ...(corsOrigins === undefined ? {} : { corsOrigins }),
  });
  checkAnswersFrom(server.url);
  return {
    server,
    client: (secretKey: string) => new BillingOS({ secretKey, sandboxUrl: server.url, productionUrl: server.url }),
  };
}

/** `clock` defaults to the system clock; pass a ManualClock to move time without sleeping. */
export async function startServerHarness(options: ServeOptions = {}): Promise<ServerHarness> {
  const clock = options.clock ?? systemClock;
  const db = await openTestStore();
  const { server, client } = await serveDatabase(db, options);
  const createKey = (organizationName: string, environment: "test" | "live") =>
    createApiKey(db, clock, { organizationName, environment });
  const testKey = await createKey("Acme", "test");
  const liveKey = await createKey("Acme", "live");
  return {
    db,
    server,
    url: server.url,
    testKey,
    liveKey,
    createKey,
    client,
    close: async () => {
      await server.close(1_000);
      await db.close();
    },
  };
}

/** Runs `fn`, expecting it to reject, and returns what it rejected with. */
export async function rejectionOf(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to reject, but it resolved");
}

/** A raw tRPC mutation over fetch, bypassing the client: what the server itself answers. */
export async function postTrpc(
  url: string,
  procedure: string,
  body: unknown,
  secretKey?: string,
): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secretKey !== undefined) headers.authorization = `Bearer ${secretKey}`;
  const response = await fetch(`${url}/trpc/${procedure}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}
