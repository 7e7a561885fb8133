import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CallOutcome,
  call,
  checkDatabaseFile,
  dataOf,
  describeOutcome,
  errorLogLines,
  formatDuration,
  isBusyFailure,
  killAllServers,
  makeTempDir,
  queryFile,
  runWorkers,
  type ServerProcess,
  startServer,
  type TempDir,
} from "./support.js";

/**
 * Issue 6 part 3: two server processes (src/main.ts twice) on ONE SQLite file, WAL mode, busy
 * timeout. Creations, revocations, lazy binds and manual binds are spread over both at once.
 * No client may see an error other than the typed one the rules call for (CONFLICT on a manual
 * bind that lost), no SQLITE_BUSY may leak, and no customer or user may be bound twice.
 */

const UNIQUE_EMAILS = 48;
const USERS_PER_EMAIL = 4;
/** Users who ask for many different customers' emails: each may end up bound to one at most. */
const ROAMERS = 6;
const SHARED_PAIRS = 4;
const MANUAL_CUSTOMERS = 8;
const SUSTAIN_MS = Number(process.env.TWO_PROCESS_SUSTAIN_MS ?? 3_000);
const SUSTAIN_IN_FLIGHT = 32;
const SUSTAIN_CUSTOMERS = 300;

type Op = "create" | "verify" | "revoke" | "revokeForCustomer" | "bind" | "import" | "listUnresolved";

interface Recorded {
  op: Op;
  side: "A" | "B";
  outcome: CallOutcome;
}

/** Every answer the clients got, classified: ok, the expected typed error, or a failure. */
class Ledger {
  readonly all: Recorded[] = [];

  record(op: Op, side: "A" | "B", outcome: CallOutcome): CallOutcome {
    this.all.push({ op, side, outcome });
    return outcome;
  }

  get ok(): number {
    return this.all.filter(({ outcome }) => outcome.kind === "response" && outcome.status === 200).length;
  }

  /** A manual bind that lost the race: 409 CONFLICT with a message a person can act on. */
  get expectedConflicts(): number {
    return this.all.filter(isExpectedConflict).length;
  }

  get busy(): Recorded[] {
    return this.all.filter(({ outcome }) => isBusyFailure(outcome));
  }

  /** Anything else: a 5xx, an unexpected 4xx, no answer. */
  get failures(): string[] {
    return this.all
      .filter(
        (entry) => !(entry.outcome.kind === "response" && entry.outcome.status === 200) && !isExpectedConflict(entry),
      )
      .map(({ op, side, outcome }) => `${op} via ${side}: ${describeOutcome(outcome)}`);
  }

  summary(): string {
    const byOp = new Map<string, number>();
    for (const { op } of this.all) byOp.set(op, (byOp.get(op) ?? 0) + 1);
    const ops = [...byOp].map(([op, n]) => `${op} ${n}`).join(", ");
    return `${this.all.length} requests (${ops}): ${this.ok} × 200, ${this.expectedConflicts} × expected CONFLICT, ${this.busy.length} SQLITE_BUSY-related failures, ${this.failures.length - this.busy.length} other failures`;
  }
}

function isExpectedConflict({ op, outcome }: Recorded): boolean {
  return (
    op === "bind" &&
    outcome.kind === "response" &&
    outcome.status === 409 &&
    outcome.body.error?.data?.code === "CONFLICT"
  );
}

let temp: TempDir;
let databasePath: string;
let servers: { A: ServerProcess; B: ServerProcess };
let secretKey: string;

beforeAll(async () => {
  temp = makeTempDir("billingos-two-processes-");
  databasePath = join(temp.path, "billingos.sqlite");
  // A creates and migrates the file (and prints the development key); B then opens the same file.
  const A = await startServer(databasePath);
  secretKey = A.developmentKey!;
  const B = await startServer(databasePath);
  servers = { A, B };
}, 90_000);

afterAll(async () => {
  await killAllServers();
  temp?.remove();
});

describe("two server processes on one SQLite file", () => {
  it("lazy binds, manual binds, creations and revocations spread over both: no error leaks, nothing is bound twice", async () => {
    expect(secretKey).toMatch(/^sk_test_/);
    const started = Date.now();
    const ledger = new Ledger();
    const via = (side: "A" | "B", op: Op, path: string, input: unknown, kind: "mutation" | "query" = "mutation") =>
      call(servers[side].url, secretKey, path, input, kind).then((outcome) => ledger.record(op, side, outcome));
    const other = (side: "A" | "B") => (side === "A" ? "B" : "A");

    // The same customers imported through both processes at once: an idempotent upsert, so
    // exactly one of the two batches creates each customer.
    const customers = [
      ...Array.from({ length: UNIQUE_EMAILS }, (_, i) => ({
        stripeCustomerId: `cus_uniq${i}`,
        email: `unique${i}@example.com`,
      })),
      ...Array.from({ length: SHARED_PAIRS }, (_, j) => [
        { stripeCustomerId: `cus_shr${j}a`, email: `shared${j}@example.com` },
        // Same address after trimming and lower-casing: the pair shares an email.
        { stripeCustomerId: `cus_shr${j}b`, email: `  Shared${j}@EXAMPLE.com ` },
      ]).flat(),
      ...Array.from({ length: MANUAL_CUSTOMERS }, (_, k) => ({
        stripeCustomerId: `cus_man${k}`,
        email: `manual${k}@example.com`,
      })),
    ];
    const imported = await Promise.all([
      via("A", "import", "customers.import", { customers }),
      via("B", "import", "customers.import", { customers: [...customers].reverse() }),
    ]);
    const reports = imported.map((outcome) => dataOf<{ created: number; unchanged: number }>(outcome));
    expect(reports[0]!.created + reports[1]!.created).toBe(customers.length);
    expect(reports[0]!.unchanged + reports[1]!.unchanged).toBe(customers.length);
    expect(checkDatabaseFile(databasePath).maintainedUnresolvedCount).toBe(customers.length);

    /** Every creation that was acknowledged: user, email it asked with, side, token. */
    const created: { externalUserId: string; email: string; side: "A" | "B"; tokenId: string; sessionToken: string }[] =
      [];
    const revoked = new Map<string, "A" | "B">();
    const bindWins = new Map<string, string[]>();
    const crossProcessMisses: string[] = [];

    /**
     * One token creation; once acknowledged, the OTHER process must verify it at once (it is
     * committed to the shared file), and some are revoked there, by id or for the whole customer.
     */
    async function createAndFollow(
      side: "A" | "B",
      externalUserId: string,
      email: string,
      after: "keep" | "revoke" | "revokeForCustomer",
    ) {
      const outcome = await via(side, "create", "sessionTokens.create", { externalUserId, email, expiresIn: 3600 });
      if (outcome.kind !== "response" || outcome.status !== 200) return;
      const token = dataOf<{ tokenId: string; sessionToken: string }>(outcome);
      created.push({ externalUserId, email, side, tokenId: token.tokenId, sessionToken: token.sessionToken });
      const seen = await via(other(side), "verify", "sessionTokens.verify", { sessionToken: token.sessionToken });
      if (seen.kind === "response" && seen.status === 200 && dataOf(seen).valid !== true) {
        crossProcessMisses.push(
          `${token.tokenId} created via ${side} does not verify via ${other(side)}: ${seen.text}`,
        );
      }
      if (after === "revoke") {
        const answer = await via(other(side), "revoke", "sessionTokens.revoke", { tokenId: token.tokenId });
        if (answer.kind === "response" && answer.status === 200) revoked.set(token.tokenId, other(side));
      } else if (after === "revokeForCustomer") {
        const answer = await via(other(side), "revokeForCustomer", "sessionTokens.revokeForCustomer", {
          externalUserId,
        });
        if (answer.kind === "response" && answer.status === 200) {
          expect(dataOf(answer).revokedCount).toBe(1);
          revoked.set(token.tokenId, other(side));
        }
      }
    }

    async function bind(side: "A" | "B", stripeCustomerId: string, externalUserId: string) {
      const outcome = await via(side, "bind", "customers.bind", { stripeCustomerId, externalUserId });
      if (outcome.kind === "response" && outcome.status === 200) {
        bindWins.set(stripeCustomerId, [...(bindWins.get(stripeCustomerId) ?? []), externalUserId]);
      }
    }

    // The storm: everything at once, alternating between the two processes, in random order so
    // that roamers sometimes come first and the manual binds race the lazy ones.
    const storm: (() => Promise<unknown>)[] = [];
    const afterFor = ["keep", "revoke", "revokeForCustomer", "keep"] as const;
    for (let i = 0; i < UNIQUE_EMAILS; i++) {
      for (let k = 0; k < USERS_PER_EMAIL; k++) {
        storm.push(() =>
          createAndFollow((i + k) % 2 === 0 ? "A" : "B", `u${i}_${k}`, `unique${i}@example.com`, afterFor[k]!),
        );
      }
      storm.push(() =>
        createAndFollow(i % 2 === 0 ? "B" : "A", `roamer${i % ROAMERS}`, `unique${i}@example.com`, "keep"),
      );
    }
    for (let j = 0; j < SHARED_PAIRS; j++) {
      for (let k = 0; k < USERS_PER_EMAIL; k++) {
        storm.push(() => createAndFollow(k % 2 === 0 ? "A" : "B", `sh${j}_${k}`, `shared${j}@example.com`, "keep"));
      }
    }
    for (let k = 0; k < MANUAL_CUSTOMERS; k++) {
      storm.push(() => bind("A", `cus_man${k}`, `mbA${k}`));
      storm.push(() => bind("B", `cus_man${k}`, `mbB${k}`));
      storm.push(() => createAndFollow("B", `mlA${k}`, `manual${k}@example.com`, "keep"));
      storm.push(() => createAndFollow("A", `mlB${k}`, `manual${k}@example.com`, "keep"));
    }
    for (let i = storm.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [storm[i], storm[j]] = [storm[j]!, storm[i]!];
    }
    await Promise.all(storm.map((start) => start()));

    // Every acknowledged revocation holds, seen from both processes.
    for (const [tokenId, side] of revoked) {
      const token = created.find((entry) => entry.tokenId === tokenId)!;
      for (const reader of [side, other(side)] as const) {
        const verdict = dataOf(
          await via(reader, "verify", "sessionTokens.verify", { sessionToken: token.sessionToken }),
        );
        expect(verdict, `${tokenId} revoked via ${side}, verified via ${reader}`).toEqual({
          valid: false,
          reason: "revoked",
        });
      }
    }

    // The shared-email customers are the only ones left, with their reason, as both processes see it.
    for (const side of ["A", "B"] as const) {
      const page = dataOf<{ data: { stripeCustomerId: string; reason: string }[] }>(
        await via(side, "listUnresolved", "customers.listUnresolved", { limit: 100 }, "query"),
      );
      expect(page.data.map((c) => [c.stripeCustomerId, c.reason]).sort()).toEqual(
        Array.from({ length: SHARED_PAIRS }, (_, j) => [
          [`cus_shr${j}a`, "email_shared"],
          [`cus_shr${j}b`, "email_shared"],
        ])
          .flat()
          .sort(),
      );
    }

    console.log(`two processes, storm: ${ledger.summary()} in ${formatDuration(Date.now() - started)}`);
    expect(ledger.busy.map(({ op, side, outcome }) => `${op} via ${side}: ${describeOutcome(outcome)}`)).toEqual([]);
    expect(ledger.failures).toEqual([]);
    expect(crossProcessMisses).toEqual([]);

    // The file: whole, consistent, and each binding made exactly once.
    const file = checkDatabaseFile(databasePath);
    expect(file.integrity).toEqual(["ok"]);
    expect(file.foreignKeyProblems).toEqual([]);
    expect(file.incompleteRows).toEqual([]);
    expect(file.maintainedUnresolvedCount).toBe(file.unboundCustomers);
    expect(file.unboundCustomers).toBe(SHARED_PAIRS * 2);
    expect(file.tokenCount).toBe(created.length);

    const rows = queryFile<{ stripe_customer_id: string; external_user_id: string | null; bound_by: string | null }>(
      databasePath,
      "select stripe_customer_id, external_user_id, bound_by from imported_customers",
    );
    const acknowledged = new Set(created.map((entry) => `${entry.externalUserId} ${entry.email}`));
    for (const row of rows) {
      const id = row.stripe_customer_id;
      if (id.startsWith("cus_uniq")) {
        const i = Number(id.slice("cus_uniq".length));
        const candidates = [...Array.from({ length: USERS_PER_EMAIL }, (_, k) => `u${i}_${k}`), `roamer${i % ROAMERS}`];
        expect(candidates, `${id} is bound to one of the users who asked with its email`).toContain(
          row.external_user_id,
        );
        expect(row.bound_by).toBe("email");
        expect(
          acknowledged.has(`${row.external_user_id} unique${i}@example.com`),
          `${id}: its user's creation was acknowledged`,
        ).toBe(true);
      } else if (id.startsWith("cus_shr")) {
        expect(row.external_user_id, `${id} shares its email: bound to no one`).toBeNull();
      } else {
        const k = Number(id.slice("cus_man".length));
        const wins = bindWins.get(id) ?? [];
        if (row.bound_by === "manual") {
          expect(wins, `${id}: the one manual bind that succeeded names its user`).toEqual([row.external_user_id]);
        } else {
          expect(row.bound_by).toBe("email");
          expect([`mlA${k}`, `mlB${k}`]).toContain(row.external_user_id);
          expect(wins, `${id} was bound by email first, so both manual binds got CONFLICT`).toEqual([]);
        }
      }
    }
    const doubleBound = queryFile(
      databasePath,
      `select organization_id, environment, external_user_id, count(*) as n from imported_customers
        where external_user_id is not null group by 1, 2, 3 having n > 1`,
    );
    expect(doubleBound, "a user is bound to one customer at most").toEqual([]);
    const boundRoamers = rows.filter((row) => row.external_user_id?.startsWith("roamer")).length;
    expect(boundRoamers).toBeLessThanOrEqual(ROAMERS);
    expect(ledger.expectedConflicts).toBe(MANUAL_CUSTOMERS * 2 - [...bindWins.values()].flat().length);

    const logErrors = [...errorLogLines(servers.A), ...errorLogLines(servers.B)];
    console.log(
      `  bound: ${rows.filter((row) => row.external_user_id !== null).length} of ${rows.length} customers (${boundRoamers} by a roamer), ` +
        `${[...bindWins.values()].flat().length} manual binds won, ${revoked.size} revocations; server error log lines: ${logErrors.length}`,
    );
    expect(logErrors).toEqual([]);
  }, 60_000);

  it(`sustained mixed load over both processes for ${SUSTAIN_MS} ms: every answer 200 or the typed error, counter exact`, async () => {
    const ledger = new Ledger();
    const via = (side: "A" | "B", op: Op, path: string, input: unknown) =>
      call(servers[side].url, secretKey, path, input).then((outcome) => ledger.record(op, side, outcome));

    const customers = Array.from({ length: SUSTAIN_CUSTOMERS }, (_, i) => ({
      stripeCustomerId: `cus_load${i}`,
      email: `load${i}@example.com`,
    }));
    dataOf(await via("B", "import", "customers.import", { customers }));

    const live: { tokenId: string; sessionToken: string }[] = [];
    let sequence = 0;
    let stop = false;
    const started = Date.now();
    const timer = setTimeout(() => (stop = true), SUSTAIN_MS);
    await runWorkers(SUSTAIN_IN_FLIGHT, async (worker) => {
      if (stop) return false;
      const side = worker % 2 === 0 ? "A" : "B";
      const n = sequence++;
      const roll = Math.random();
      if (roll < 0.15 && live.length > 0) {
        const token = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
        await via(side, "revoke", "sessionTokens.revoke", { tokenId: token.tokenId });
      } else if (roll < 0.3 && live.length > 0) {
        const token = live[Math.floor(Math.random() * live.length)]!;
        await via(side, "verify", "sessionTokens.verify", { sessionToken: token.sessionToken });
      } else if (roll < 0.38) {
        // Manual binds racing the lazy ones for the same customers.
        await via(side, "bind", "customers.bind", {
          stripeCustomerId: `cus_load${Math.floor(Math.random() * SUSTAIN_CUSTOMERS)}`,
          externalUserId: `manual_${n}`,
        });
      } else {
        // Two users per email, whichever process: one bind per customer at most.
        const i = Math.floor(Math.random() * SUSTAIN_CUSTOMERS);
        const outcome = await via(side, "create", "sessionTokens.create", {
          externalUserId: `load_${i}_${n % 2}`,
          email: `load${i}@example.com`,
        });
        if (outcome.kind === "response" && outcome.status === 200) live.push(dataOf(outcome));
      }
      return !stop;
    });
    clearTimeout(timer);
    const elapsed = Date.now() - started;

    const file = checkDatabaseFile(databasePath);
    const logErrors = [...errorLogLines(servers.A), ...errorLogLines(servers.B)];
    console.log(
      `two processes, sustained: ${ledger.summary()} in ${formatDuration(elapsed)} (~${Math.round((ledger.all.length * 1000) / elapsed)} requests/s); ` +
        `unbound ${file.unboundCustomers}, counter ${file.maintainedUnresolvedCount}; server error log lines: ${logErrors.length}`,
    );
    expect(ledger.busy.map(({ op, side, outcome }) => `${op} via ${side}: ${describeOutcome(outcome)}`)).toEqual([]);
    expect(ledger.failures).toEqual([]);
    expect(logErrors).toEqual([]);
    expect(file.integrity).toEqual(["ok"]);
    expect(file.foreignKeyProblems).toEqual([]);
    expect(file.incompleteRows).toEqual([]);
    expect(file.maintainedUnresolvedCount).toBe(file.unboundCustomers);
    const doubleBound = queryFile(
      databasePath,
      `select external_user_id, count(*) as n from imported_customers where external_user_id is not null group by 1 having n > 1`,
    );
    expect(doubleBound).toEqual([]);
    // Lazily bound load customers went to one of the two users who asked with their email.
    const wrong = queryFile<{ stripe_customer_id: string; external_user_id: string }>(
      databasePath,
      `select stripe_customer_id, external_user_id from imported_customers
        where stripe_customer_id like 'cus_load%' and bound_by = 'email'
          and external_user_id not in ('load_' || substr(stripe_customer_id, 9) || '_0', 'load_' || substr(stripe_customer_id, 9) || '_1')`,
    );
    expect(wrong).toEqual([]);
    expect(ledger.ok).toBeGreaterThan(50);
  }, 60_000);

  it("SIGKILL of one process under load: the other keeps serving without an error, and the killed one restarts on the file", async () => {
    const acknowledged: { sessionToken: string; side: "A" | "B" }[] = [];
    const answersFromB: CallOutcome[] = [];
    let cutOffAtA = 0;
    let stop = false;
    let killed = false;
    const load = runWorkers(16, async (worker) => {
      if (stop) return false;
      const side = worker % 2 === 0 ? "A" : "B";
      if (side === "A" && killed) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return !stop;
      }
      const outcome = await call(servers[side].url, secretKey, "sessionTokens.create", {
        externalUserId: `kill_${worker}`,
        email: `load${worker}@example.com`,
      });
      if (side === "B") answersFromB.push(outcome);
      if (outcome.kind === "no_response") cutOffAtA++;
      else if (outcome.status === 200) acknowledged.push({ sessionToken: dataOf(outcome).sessionToken, side });
      return !stop;
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    killed = true;
    // A may die holding SQLite's write lock: the kernel releases it, and B must not stall or fail.
    await servers.A.crash();
    const beforeKill = answersFromB.length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    stop = true;
    await load;

    const failuresAtB = answersFromB.filter((outcome) => outcome.kind !== "response" || outcome.status !== 200);
    console.log(
      `two processes, one killed: B answered ${answersFromB.length} creations (${answersFromB.length - beforeKill} after A's SIGKILL), ` +
        `${failuresAtB.length} not 200 (${answersFromB.filter(isBusyFailure).length} SQLITE_BUSY-related); ${cutOffAtA} requests cut off at A`,
    );
    expect(failuresAtB.map(describeOutcome)).toEqual([]);
    expect(answersFromB.length - beforeKill, "B served after A was killed").toBeGreaterThan(0);

    servers.A = await startServer(databasePath);
    // A hundred at a time: thousands of requests at once would open more connections than
    // MAX_CONNECTIONS lets in, and the extra ones would be closed unanswered (by design).
    const verdicts = [];
    for (let start = 0; start < acknowledged.length; start += 100) {
      verdicts.push(
        ...(await Promise.all(
          acknowledged
            .slice(start, start + 100)
            .map(({ sessionToken }) => call(servers.A.url, secretKey, "sessionTokens.verify", { sessionToken })),
        )),
      );
    }
    expect(verdicts.filter((outcome) => dataOf(outcome).valid !== true).map(describeOutcome)).toEqual([]);
    const file = checkDatabaseFile(databasePath);
    expect(file.integrity).toEqual(["ok"]);
    expect(file.incompleteRows).toEqual([]);
    expect(file.maintainedUnresolvedCount).toBe(file.unboundCustomers);
  }, 60_000);

  it("both processes stop cleanly on SIGTERM, and the file they leave is whole", async () => {
    expect(await servers.A.stop()).toEqual({ code: 0, signal: null });
    // B still serves after A has checkpointed and closed.
    const outcome = await call(servers.B.url, secretKey, "sessionTokens.create", { externalUserId: "after_a_stopped" });
    expect(outcome.kind === "response" && outcome.status).toBe(200);
    expect(await servers.B.stop()).toEqual({ code: 0, signal: null });
    const file = checkDatabaseFile(databasePath);
    expect(file.integrity).toEqual(["ok"]);
    expect(file.incompleteRows).toEqual([]);
    expect(file.maintainedUnresolvedCount).toBe(file.unboundCustomers);
  });
});
