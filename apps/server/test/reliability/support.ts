import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { type RunningProcess, runEntry } from "../run-process.js";

// Shared by the crash-durability and two-process tests: real server processes (src/main.ts, as
// `pnpm start` runs it) on a real database file, driven over HTTP with fetch, and the file read
// back with a separate SQLite connection. Nothing here mocks the server or the database.

/** Every child started through `startServer`, so a failing test still leaves no process behind. */
const children = new Set<RunningProcess>();

function killAll(): void {
  for (const child of children) {
    if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill("SIGKILL");
  }
}
// If the test worker itself goes away (timeout, Ctrl-C), its servers go with it.
process.once("exit", killAll);

export interface ServerProcess {
  url: string;
  /** The development key printed on an empty database, if this start printed one. */
  developmentKey: string | undefined;
  process: RunningProcess;
  /** SIGKILL: no handler runs, nothing is flushed; resolves once the process is gone. */
  crash(): Promise<void>;
  /** SIGTERM: graceful shutdown; resolves with the exit status. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the real server on `databasePath` (port 0, loopback) and resolves once it logs its URL.
 * Token creation and the other writes are not rate-limited, nor connections per client address,
 * unless `env` says so: these tests measure durability, not limits (their storms open hundreds of
 * connections at once, all from 127.0.0.1).
 */
export async function startServer(databasePath: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const running = runEntry("src/main.ts", [], {
    PORT: "0",
    HOST: "127.0.0.1",
    DATABASE_PATH: databasePath,
    CREATE_RATE_LIMIT_PER_MINUTE: "0",
    WRITE_RATE_LIMIT_PER_MINUTE: "0",
    MAX_CONNECTIONS_PER_ADDRESS: "0",
    LOG_LEVEL: "info",
    ...env,
  });
  children.add(running);
  void running.exited.then(() => children.delete(running));
  let match: RegExpMatchArray;
  try {
    match = await running.waitFor(/"url":"(http:\/\/[^"]+)"/, 60_000);
  } catch (error) {
    running.child.kill("SIGKILL");
    throw error;
  }
  return {
    url: match[1]!,
    developmentKey: running.stdout().match(/^\s+(sk_test_[0-9A-Za-z]+)$/m)?.[1],
    process: running,
    crash: async () => {
      running.child.kill("SIGKILL");
      await running.exited;
    },
    stop: async () => {
      running.child.kill("SIGTERM");
      return running.exited;
    },
  };
}

/** The error-level log lines (pino levels 50 and 60) a server process wrote: failed requests, failed purges. */
export function errorLogLines(server: ServerProcess): string[] {
  return `${server.process.stdout()}\n${server.process.stderr()}`
    .split("\n")
    .filter((line) => /"level":(50|60)\b/.test(line) || /SQLITE_/.test(line));
}

/** Kills (SIGKILL) every server process still running; for afterEach/afterAll. */
export async function killAllServers(): Promise<void> {
  const waiting = [...children].map((child) => child.exited);
  killAll();
  await Promise.all(waiting);
}

export interface TempDir {
  path: string;
  remove(): void;
}

export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// The wire, by hand: tRPC v11's HTTP shape without a client library, so every status and body the
// server sends is seen exactly as it was sent.

/** What came back: an HTTP answer (any status), or no answer at all (connection refused or cut). */
export type CallOutcome =
  | { kind: "response"; status: number; body: TrpcBody; text: string }
  | { kind: "no_response"; error: string };

export interface TrpcBody {
  result?: { data: any };
  error?: { message: string; code: number; data?: { code?: string; httpStatus?: number; path?: string } };
}

const REQUEST_TIMEOUT_MS = 15_000;

/** Calls one procedure; mutations are POSTed, queries sent as GET with `?input=`. */
export async function call(
  url: string,
  secretKey: string,
  path: string,
  input: unknown,
  kind: "mutation" | "query" = "mutation",
): Promise<CallOutcome> {
  const target =
    kind === "mutation"
      ? `${url}/trpc/${path}`
      : `${url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(target, {
      method: kind === "mutation" ? "POST" : "GET",
      headers: {
        authorization: `Bearer ${secretKey}`,
        ...(kind === "mutation" ? { "content-type": "application/json" } : {}),
      },
      body: kind === "mutation" ? JSON.stringify(input) : undefined,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return { kind: "no_response", error: cause?.code ?? cause?.message ?? String(error) };
  }
  let body: TrpcBody;
  try {
    body = JSON.parse(text) as TrpcBody;
  } catch {
    body = {};
  }
  return { kind: "response", status: response.status, body, text };
}

/** The result data of a 200, or throws with what came back instead. */
export function dataOf<T = any>(outcome: CallOutcome): T {
  if (outcome.kind === "response" && outcome.status === 200 && outcome.body.result !== undefined) {
    return outcome.body.result.data as T;
  }
  throw new Error(`expected a 200 with a result, got ${describeOutcome(outcome)}`);
}

export function describeOutcome(outcome: CallOutcome): string {
  return outcome.kind === "response"
    ? `HTTP ${outcome.status} ${outcome.text.slice(0, 300)}`
    : `no response (${outcome.error})`;
}

/** SQLite lock contention that reached a client: the thing a busy timeout plus retries must prevent. */
export function isBusyFailure(outcome: CallOutcome): boolean {
  return (
    outcome.kind === "response" &&
    /SQLITE_BUSY|SQLITE_LOCKED|database is locked|database table is locked/i.test(outcome.text)
  );
}

/** Runs `worker` `concurrency` times in parallel; each copy loops until it returns false. */
export async function runWorkers(concurrency: number, worker: (index: number) => Promise<boolean>): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, index) => {
      while (await worker(index)) {
        // keep going
      }
    }),
  );
}

/** Maps `items` through `fn` with at most `concurrency` calls in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await runWorkers(Math.min(concurrency, items.length), async () => {
    const index = next++;
    if (index >= items.length) return false;
    results[index] = await fn(items[index]!);
    return true;
  });
  return results;
}

// ---------------------------------------------------------------------------------------------
// Reading the file back, through SQLite itself, beside the running server (WAL lets a reader in).

export interface FileCheck {
  integrity: string[];
  foreignKeyProblems: unknown[];
  /** Rows that only a torn or partial write could have produced (one line each, for the failure message). */
  incompleteRows: string[];
  tokenCount: number;
  unboundCustomers: number;
  /** customer_binding_counts.unresolved_count per organization+environment, summed. */
  maintainedUnresolvedCount: number;
}

/**
 * The invariants a committed transaction must leave and a torn one would break: SQLite's own
 * integrity and foreign-key checks, every session-token row whole (hash, times, scope, JSON), each
 * token with exactly one "created" audit event (written in the same transaction), revocation
 * columns set together, and the maintained unresolved counter equal to the real count.
 */
export function checkDatabaseFile(databasePath: string): FileCheck {
  const sqlite = new BetterSqlite3(databasePath, { readonly: true, fileMustExist: true });
  sqlite.pragma("busy_timeout = 5000");
  try {
    const integrity = (sqlite.pragma("integrity_check") as { integrity_check: string }[]).map(
      (row) => row.integrity_check,
    );
    const foreignKeyProblems = sqlite.pragma("foreign_key_check") as unknown[];
    const incompleteRows: string[] = [];
    const tokens = sqlite.prepare("select * from session_tokens").all() as Record<string, unknown>[];
    for (const row of tokens) {
      const problems = tokenRowProblems(row);
      if (problems.length > 0) incompleteRows.push(`session_tokens ${String(row.id)}: ${problems.join(", ")}`);
    }
    // Aggregated once (audit_events has no index on subject_id): events per subject and kind.
    const auditCounts = `select subject_id, organization_id, environment,
                                sum(action = 'session_token.created') as created,
                                sum(action like 'session_token.%' and action <> 'session_token.created') as revoked,
                                sum(action = 'customer.bound') as bound
                           from audit_events group by subject_id, organization_id, environment`;
    const tokenAudits = sqlite
      .prepare(
        `select t.id, t.revoked_at, coalesce(a.created, 0) as created, coalesce(a.revoked, 0) as revoked
           from session_tokens t left join (${auditCounts}) a on a.subject_id = t.id`,
      )
      .all() as { id: string; revoked_at: number | null; created: number; revoked: number }[];
    for (const row of tokenAudits) {
      if (row.created !== 1)
        incompleteRows.push(`session_tokens ${row.id}: ${row.created} "created" audit events (expected 1)`);
      if (row.revoked_at !== null && row.revoked < 1)
        incompleteRows.push(`session_tokens ${row.id}: revoked without a revocation audit event`);
      if (row.revoked_at === null && row.revoked > 0)
        incompleteRows.push(`session_tokens ${row.id}: a revocation audit event but not revoked`);
    }
    const bindings = sqlite
      .prepare(
        `select c.stripe_customer_id as id, c.external_user_id, coalesce(a.bound, 0) as n
           from imported_customers c left join (${auditCounts}) a
             on a.subject_id = c.stripe_customer_id and a.organization_id = c.organization_id and a.environment = c.environment`,
      )
      .all() as { id: string; external_user_id: string | null; n: number }[];
    for (const row of bindings) {
      const expected = row.external_user_id === null ? 0 : 1;
      if (row.n !== expected)
        incompleteRows.push(
          `imported_customers ${row.id}: ${row.n} "customer.bound" audit events (expected ${expected})`,
        );
    }
    const halfBound = sqlite
      .prepare(
        `select stripe_customer_id as id from imported_customers
          where (external_user_id is null) <> (bound_at is null) or (external_user_id is null) <> (bound_by is null)`,
      )
      .all() as { id: string }[];
    for (const row of halfBound) incompleteRows.push(`imported_customers ${row.id}: binding columns set only in part`);
    const { n: unboundCustomers } = sqlite
      .prepare("select count(*) as n from imported_customers where external_user_id is null")
      .get() as {
      n: number;
    };
    const { n: maintained } = sqlite
      .prepare("select coalesce(sum(unresolved_count), 0) as n from customer_binding_counts")
      .get() as {
      n: number;
    };
    return {
      integrity,
      foreignKeyProblems,
      incompleteRows,
      tokenCount: tokens.length,
      unboundCustomers,
      maintainedUnresolvedCount: Number(maintained),
    };
  } finally {
    sqlite.close();
  }
}

function tokenRowProblems(row: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const text = (name: string) => typeof row[name] === "string" && (row[name] as string).length > 0;
  const int = (name: string) => typeof row[name] === "number" && Number.isInteger(row[name]);
  if (!/^tok_/.test(String(row.id))) problems.push("id");
  if (!/^[0-9a-f]{64}$/.test(String(row.token_hash))) problems.push("token_hash is not a SHA-256 hex digest");
  for (const name of ["organization_id", "api_key_id", "external_user_id"]) if (!text(name)) problems.push(name);
  if (row.environment !== "test" && row.environment !== "live") problems.push("environment");
  if (!int("created_at") || !int("expires_at") || (row.expires_at as number) <= (row.created_at as number))
    problems.push("times");
  if ((row.revoked_at === null) !== (row.revocation_reason === null))
    problems.push("revoked_at/revocation_reason set only in part");
  for (const name of ["metadata", "allowed_operations"]) {
    if (row[name] === null) continue;
    try {
      JSON.parse(String(row[name]));
    } catch {
      problems.push(`${name} is not JSON`);
    }
  }
  return problems;
}

/** Rows of a query on the file, through a separate read-only connection. */
export function queryFile<T>(databasePath: string, query: string, ...params: unknown[]): T[] {
  const sqlite = new BetterSqlite3(databasePath, { readonly: true, fileMustExist: true });
  sqlite.pragma("busy_timeout = 5000");
  try {
    return sqlite.prepare(query).all(...params) as T[];
  } finally {
    sqlite.close();
  }
}

export function formatDuration(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
