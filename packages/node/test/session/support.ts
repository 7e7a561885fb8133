import { request } from "node:http";
import { type BillingOSSession, createSessionClient } from "../../src/session/index.js";
import { type CreatedKey, type ServeOptions, type ServerHarness, startServerHarness } from "../server-harness.js";

// A real server on port 0 over a fresh, migrated in-memory database, with the options the
// browser-side tests need (CORS origins, served environments, an injected clock). Nothing is mocked.

export const APP_ORIGIN = "http://app.example";

export type { CreatedKey };

export interface BrowserSideServer
  extends Pick<ServerHarness, "db" | "server" | "url" | "testKey" | "liveKey" | "close"> {
  /** The merchant's node client, routed to this server whatever the key's environment. */
  merchant(secretKey?: string): ReturnType<ServerHarness["client"]>;
  /** The browser's session client, routed to this server whatever the token's environment. */
  browser(sessionToken: string): BillingOSSession;
}

export async function startBrowserSideServer(options: ServeOptions = {}): Promise<BrowserSideServer> {
  const harness = await startServerHarness(options);
  return {
    ...harness,
    merchant: (secretKey = harness.testKey.secretKey) => harness.client(secretKey),
    browser: (sessionToken) =>
      createSessionClient({ sessionToken, sandboxUrl: harness.url, productionUrl: harness.url }),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One raw HTTP request through node:http, so that headers a browser would send (Origin,
 * Access-Control-Request-*) go out exactly as written and the raw answer comes back.
 */
export function rawRequest(
  baseUrl: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, baseUrl),
      { method: init.method ?? "GET", headers: init.headers ?? {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(init.body);
  });
}

/** A browser's CORS preflight for `path` from `origin`. */
export function preflight(baseUrl: string, path: string, origin: string, method = "GET"): Promise<RawResponse> {
  return rawRequest(baseUrl, path, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization, content-type",
    },
  });
}

/** Every response header whose name starts with access-control-. */
export function corsHeadersOf(response: RawResponse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(response.headers).filter(([name]) => name.startsWith("access-control-")));
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

/** Words that would tell a browser why its token was refused. None may reach it. */
export const REASON_WORDS =
  /expired|revoked|not[_ ]found|malformed|checksum|environment|operation|scope|invalid|reason/i;
