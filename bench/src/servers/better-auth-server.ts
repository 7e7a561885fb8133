import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { format } from "node:util";
import { type BetterAuthOptions, betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { bearer } from "better-auth/plugins";
import Store from "better-sqlite3";

/**
 * The benchmark's peer: Better Auth answering `getSession` for a bearer token, on better-sqlite3,
 * behind a bare node:http server (no framework cost of its own, like the baseline server).
 *
 * Protocol with the bench (see ../processes.ts): once listening, exactly one JSON line on stdout,
 * `{"url": …, "token": …}`; everything else goes to stderr. SIGTERM closes the server and exits 0.
 */

// stdout carries the one JSON line the bench parses. Better Auth's default logger prints info lines
// with console.log, so route console.log/info to stderr before anything can write.
console.log = (...args: unknown[]) => process.stderr.write(`${format(...args)}\n`);
console.info = console.log;

const EMAIL = "bench-user@billingos.test";
const PASSWORD = "bench-password-not-secret";

// A path from the bench (its temp workdir), or a temp directory of our own, removed on exit.
const ownDir = process.env.BETTER_AUTH_DB ? undefined : mkdtempSync(join(tmpdir(), "better-auth-bench-"));
const dbPath = process.env.BETTER_AUTH_DB ?? join(ownDir!, "better-auth.sqlite");
mkdirSync(dirname(dbPath), { recursive: true });

const sqlite = new Store(dbPath);
// The same journal settings as the BillingOS server, so the two read from SQLite on equal terms.
sqlite.pragma("journal_mode = WAL");
sqlite.pragma("synchronous = NORMAL");

const options = {
  // better-sqlite3 is detected by Better Auth's Kysely adapter (SqliteDialect).
  database: sqlite,
  baseURL: "http://127.0.0.1",
  secret: process.env.BETTER_AUTH_SECRET ?? "billingos-bench-better-auth-dev-secret-0123456789",
  emailAndPassword: { enabled: true },
  plugins: [bearer()],
  // Off by default in this version too (it needs BETTER_AUTH_TELEMETRY=1); stated so no run phones out.
  telemetry: { enabled: false },
  logger: {
    log: (level, message, ...args) => process.stderr.write(`[better-auth ${level}] ${format(message, ...args)}\n`),
  },
  // Session settings are Better Auth's defaults: the cookie cache (session.cookieCache) is OFF unless
  // enabled, so every getSession reads the session joined to its user from the database — a
  // per-request lookup, the fair peer for a per-request verify. (A bearer client would not carry the
  // session_data cookie anyway.) Sessions refresh only once a day old (updateAge), so no writes here.
} satisfies BetterAuthOptions;

const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);

/**
 * A session token in the form the bearer plugin hands to clients: the signed value from the
 * `set-auth-token` response header. Signs up on a fresh database; signs in when the user is
 * already there (a reused BETTER_AUTH_DB), so a rerun still gets a live session.
 */
async function obtainToken(): Promise<string> {
  let response = await auth.api.signUpEmail({
    body: { email: EMAIL, password: PASSWORD, name: "Bench User" },
    asResponse: true,
  });
  if (!response.ok) {
    process.stderr.write(`sign-up answered ${response.status}; signing in instead\n`);
    response = await auth.api.signInEmail({ body: { email: EMAIL, password: PASSWORD }, asResponse: true });
  }
  const token = response.headers.get("set-auth-token");
  if (!response.ok || !token) throw new Error(`no session token (status ${response.status}): ${await response.text()}`);
  return token;
}

function toFetchHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const token = await obtainToken();

const server = createServer((req, res) => {
  if (req.method !== "GET" || req.url?.split("?")[0] !== "/session") {
    sendJson(res, 404, { error: "not_found" });
    return;
  }
  auth.api.getSession({ headers: toFetchHeaders(req.headers) }).then(
    (session) => (session ? sendJson(res, 200, session) : sendJson(res, 401, { error: "unauthorized" })),
    (error: unknown) => {
      // Better Auth's own failure (e.g. the database), not a bad token: report it, never hide it as a 401.
      process.stderr.write(
        `getSession failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      sendJson(res, 500, { error: "internal" });
    },
  );
});

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, token })}\n`);
});

process.once("SIGTERM", () => {
  server.close(() => {
    sqlite.close();
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    process.exit(0);
  });
  // Keep-alive connections from a load generator would hold close() open.
  server.closeAllConnections();
});
