import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  call,
  checkDatabaseFile,
  dataOf,
  describeOutcome,
  errorLogLines,
  formatDuration,
  killAllServers,
  makeTempDir,
  mapLimit,
  queryFile,
  runWorkers,
  type ServerProcess,
  startServer,
  type TempDir,
} from "./support.js";

/**
 * Issue 6 part 2: the real server (src/main.ts) on a database FILE, under a steady stream of
 * concurrent token creations (some binding an imported customer by email), revocations (by id
 * and by token) and customer imports, is killed with SIGKILL at a random moment and restarted
 * on the same file, CRASH_CYCLES times. After every restart:
 *
 * - every creation that was acknowledged (HTTP 200) is stored whole and still verifies — or
 *   answers `revoked` if its revocation was acknowledged too;
 * - every acknowledged revocation holds, with the revocation time that was acknowledged;
 * - every acknowledged email bind holds; an import batch is there entirely or not at all;
 * - what was in flight at the kill left no partial record: `PRAGMA integrity_check` is `ok`,
 *   `PRAGMA foreign_key_check` is empty, every token row is complete with exactly one
 *   "created" audit event, and the maintained unresolved counter equals the real count.
 *
 * `pnpm crash-test` runs 20 cycles; the ordinary test run a few.
 */

const CYCLES = positiveInteger("CRASH_CYCLES", 3);
/** Requests kept in flight against the server while it runs. */
const IN_FLIGHT = positiveInteger("CRASH_IN_FLIGHT", 24);
/** The kill comes at a uniformly random moment this long (ms) after the load starts. */
const KILL_AFTER_MIN_MS = 300;
const KILL_AFTER_MAX_MS = 2_000;
const REVOKE_SHARE = 0.3;
const EMAIL_SHARE = 0.3;
const IMPORT_BATCH = 100;
/** The importing worker pauses this long between batches, so imports stay a small share of the load. */
const IMPORT_PAUSE_MS = 150;
const CUSTOMERS_PER_CYCLE = 400;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer (got ${JSON.stringify(raw)})`);
  return value;
}

interface TrackedToken {
  tokenId: string;
  sessionToken: string;
  externalUserId: string;
  cycle: number;
  /** none: never sent; pending: sent, no answer yet; acked: 200 received; uncertain: sent, no answer. */
  revocation: "none" | "pending" | "acked" | "uncertain";
  revokedAt?: string;
  revokedInCycle?: number;
}

interface Figures {
  acknowledgedCreations: number;
  acknowledgedRevocations: number;
  acknowledgedBinds: number;
  acknowledgedImports: number;
  unacknowledgedCreations: number;
  unacknowledgedRevocations: number;
  unacknowledgedImports: number;
  lostCreations: number;
  lostRevocations: number;
  lostBinds: number;
  lostImports: number;
  verifications: number;
}

let temp: TempDir | undefined;
afterAll(async () => {
  await killAllServers();
  temp?.remove();
});

describe("crash durability (SIGKILL under load, restart on the same file)", () => {
  it(
    `loses no acknowledged write over ${CYCLES} kill/restart cycles and leaves no partial record`,
    async () => {
      const started = Date.now();
      temp = makeTempDir("billingos-crash-");
      const databasePath = join(temp.path, "billingos.sqlite");

      let server: ServerProcess = await startServer(databasePath);
      const key = server.developmentKey;
      expect(key, "the first start on an empty file prints a development key").toBeDefined();
      const secretKey = key!;

      // Customers to bind by email: one user per email, so an acknowledged bind has one right answer.
      const totalCustomers = CYCLES * CUSTOMERS_PER_CYCLE;
      for (let start = 0; start < totalCustomers; start += 1000) {
        const customers = Array.from({ length: Math.min(1000, totalCustomers - start) }, (_, i) => ({
          stripeCustomerId: `cus_crash${start + i}`,
          email: `crash${start + i}@example.com`,
        }));
        expect(dataOf(await call(server.url, secretKey, "customers.import", { customers })).created).toBe(
          customers.length,
        );
      }

      const figures: Figures = {
        acknowledgedCreations: 0,
        acknowledgedRevocations: 0,
        acknowledgedBinds: 0,
        acknowledgedImports: 0,
        unacknowledgedCreations: 0,
        unacknowledgedRevocations: 0,
        unacknowledgedImports: 0,
        lostCreations: 0,
        lostRevocations: 0,
        lostBinds: 0,
        lostImports: 0,
        verifications: 0,
      };
      const problems: string[] = [];
      const problem = (text: string) => {
        if (problems.length < 50) problems.push(text);
      };

      const tokens: TrackedToken[] = [];
      const revocable: TrackedToken[] = [];
      /** email index → the user that asked for it, and whether that creation was acknowledged. */
      const binds = new Map<number, { externalUserId: string; acked: boolean }>();
      /** import batch name → acknowledged? (undefined while in flight) */
      const imports = new Map<string, boolean | undefined>();
      let nextEmail = 0;
      let sequence = 0;

      async function create(url: string, cycle: number): Promise<void> {
        const externalUserId = `user_${cycle}_${sequence++}`;
        const emailIndex = Math.random() < EMAIL_SHARE && nextEmail < totalCustomers ? nextEmail++ : undefined;
        const input = {
          externalUserId,
          expiresIn: 86_400,
          metadata: { cycle, ip: "203.0.113.9" },
          ...(emailIndex === undefined ? {} : { email: `crash${emailIndex}@example.com` }),
          ...(sequence % 3 === 0 ? { allowedOperations: ["customer:read", "session:read"] } : {}),
        };
        if (emailIndex !== undefined) binds.set(emailIndex, { externalUserId, acked: false });
        const outcome = await call(url, secretKey, "sessionTokens.create", input);
        if (outcome.kind === "no_response") {
          figures.unacknowledgedCreations++;
          return;
        }
        if (outcome.status !== 200) return problem(`create answered ${describeOutcome(outcome)}`);
        const data = dataOf<{ tokenId: string; sessionToken: string }>(outcome);
        const token: TrackedToken = {
          tokenId: data.tokenId,
          sessionToken: data.sessionToken,
          externalUserId,
          cycle,
          revocation: "none",
        };
        tokens.push(token);
        revocable.push(token);
        figures.acknowledgedCreations++;
        if (emailIndex !== undefined) {
          binds.set(emailIndex, { externalUserId, acked: true });
          figures.acknowledgedBinds++;
        }
      }

      async function revoke(url: string, cycle: number): Promise<void> {
        const token = revocable.splice(Math.floor(Math.random() * revocable.length), 1)[0]!;
        token.revocation = "pending";
        const input = Math.random() < 0.5 ? { tokenId: token.tokenId } : { sessionToken: token.sessionToken };
        const outcome = await call(url, secretKey, "sessionTokens.revoke", input);
        if (outcome.kind === "no_response") {
          token.revocation = "uncertain";
          figures.unacknowledgedRevocations++;
          return;
        }
        if (outcome.status !== 200) return problem(`revoke ${token.tokenId} answered ${describeOutcome(outcome)}`);
        const data = dataOf<{ tokenId: string; revokedAt: string }>(outcome);
        token.revocation = "acked";
        token.revokedAt = data.revokedAt;
        token.revokedInCycle = cycle;
        figures.acknowledgedRevocations++;
      }

      /** One customer import batch (a single write transaction of IMPORT_BATCH rows). */
      async function importBatch(url: string, name: string): Promise<void> {
        imports.set(name, undefined);
        const customers = Array.from({ length: IMPORT_BATCH }, (_, i) => ({
          stripeCustomerId: `cus_${name}x${i}`,
          email: `${name}.${i}@example.com`,
        }));
        const outcome = await call(url, secretKey, "customers.import", { customers });
        if (outcome.kind === "no_response") {
          imports.set(name, false);
          figures.unacknowledgedImports++;
          return;
        }
        if (outcome.status !== 200) return problem(`import ${name} answered ${describeOutcome(outcome)}`);
        imports.set(name, true);
        figures.acknowledgedImports++;
      }

      /** Checks the file and, over HTTP, `toVerify`; counts whatever an acknowledgement promised and is gone. */
      async function checkAfterRestart(url: string, toVerify: TrackedToken[], when: string): Promise<void> {
        const file = checkDatabaseFile(databasePath);
        if (file.integrity.join() !== "ok") problem(`${when}: integrity_check says ${file.integrity.join("; ")}`);
        if (file.foreignKeyProblems.length > 0)
          problem(`${when}: foreign_key_check: ${JSON.stringify(file.foreignKeyProblems)}`);
        for (const row of file.incompleteRows) problem(`${when}: ${row}`);
        if (file.maintainedUnresolvedCount !== file.unboundCustomers) {
          problem(
            `${when}: unresolved counter ${file.maintainedUnresolvedCount} ≠ ${file.unboundCustomers} unbound customers`,
          );
        }

        // Rows of every acknowledged creation and revocation, read back from the file.
        const stored = new Map(
          queryFile<{ id: string; revoked_at: number | null }>(
            databasePath,
            "select id, revoked_at from session_tokens",
          ).map((row) => [row.id, row.revoked_at]),
        );
        for (const token of toVerify) {
          if (!stored.has(token.tokenId)) {
            figures.lostCreations++;
            problem(`${when}: acknowledged token ${token.tokenId} (cycle ${token.cycle}) is not in the database`);
            continue;
          }
          if (token.revocation === "acked") {
            const revokedAt = stored.get(token.tokenId);
            if (revokedAt === null || new Date(revokedAt!).toISOString() !== token.revokedAt) {
              figures.lostRevocations++;
              problem(
                `${when}: acknowledged revocation of ${token.tokenId} at ${token.revokedAt} reads back as ${revokedAt}`,
              );
            }
          }
        }

        // And through the service itself: verify answers what the acknowledgements promised.
        await mapLimit(toVerify, 32, async (token) => {
          const outcome = await call(url, secretKey, "sessionTokens.verify", { sessionToken: token.sessionToken });
          figures.verifications++;
          if (outcome.kind !== "response" || outcome.status !== 200) {
            return problem(`${when}: verify ${token.tokenId} answered ${describeOutcome(outcome)}`);
          }
          const verdict = dataOf<{ valid: boolean; reason?: string }>(outcome);
          const answer = verdict.valid ? "valid" : verdict.reason!;
          const expected =
            token.revocation === "acked"
              ? ["revoked"]
              : token.revocation === "uncertain"
                ? ["valid", "revoked"]
                : ["valid"];
          if (!expected.includes(answer)) {
            if (token.revocation === "acked") figures.lostRevocations++;
            else figures.lostCreations++;
            problem(
              `${when}: verify ${token.tokenId} (revocation ${token.revocation}) says ${answer}, expected ${expected.join(" or ")}`,
            );
          }
        });

        // Email binds: acknowledged → bound to that user; in flight → unbound or that user; unused → unbound.
        const customers = queryFile<{
          stripe_customer_id: string;
          external_user_id: string | null;
          bound_by: string | null;
        }>(
          databasePath,
          "select stripe_customer_id, external_user_id, bound_by from imported_customers where stripe_customer_id like 'cus_crash%'",
        );
        for (const customer of customers) {
          const index = Number(customer.stripe_customer_id.slice("cus_crash".length));
          const bind = binds.get(index);
          if (bind?.acked) {
            if (customer.external_user_id !== bind.externalUserId || customer.bound_by !== "email") {
              figures.lostBinds++;
              problem(
                `${when}: ${customer.stripe_customer_id} acknowledged bound to ${bind.externalUserId}, reads ${customer.external_user_id}`,
              );
            }
          } else if (customer.external_user_id !== null && customer.external_user_id !== bind?.externalUserId) {
            problem(
              `${when}: ${customer.stripe_customer_id} bound to ${customer.external_user_id}, which never asked for it`,
            );
          }
        }

        // Import batches: all or nothing, and all if acknowledged.
        const batchSizes = new Map(
          queryFile<{ batch: string; n: number }>(
            databasePath,
            `select substr(stripe_customer_id, 5, instr(stripe_customer_id, 'x') - 5) as batch, count(*) as n
               from imported_customers where stripe_customer_id like 'cus_batch%' group by batch`,
          ).map((row) => [row.batch, row.n]),
        );
        for (const [name, acked] of imports) {
          const n = batchSizes.get(name) ?? 0;
          if (acked && n !== IMPORT_BATCH) {
            figures.lostImports++;
            problem(`${when}: acknowledged import ${name} has ${n} of ${IMPORT_BATCH} customers`);
          } else if (n !== 0 && n !== IMPORT_BATCH) {
            problem(
              `${when}: import ${name} (in flight at the kill) left ${n} of ${IMPORT_BATCH} customers: a torn transaction`,
            );
          }
        }
      }

      const killDelays: number[] = [];
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const url = server.url;
        let stopped = false;
        let batch = 0;
        const load = runWorkers(IN_FLIGHT, async (worker) => {
          if (stopped) return false;
          if (worker === 0) {
            await importBatch(url, `batch${cycle}n${batch++}`);
            await new Promise((resolve) => setTimeout(resolve, IMPORT_PAUSE_MS));
          } else if (revocable.length > 0 && Math.random() < REVOKE_SHARE) await revoke(url, cycle);
          else await create(url, cycle);
          return !stopped;
        });

        const killAfter = KILL_AFTER_MIN_MS + Math.random() * (KILL_AFTER_MAX_MS - KILL_AFTER_MIN_MS);
        killDelays.push(Math.round(killAfter));
        await new Promise((resolve) => setTimeout(resolve, killAfter));
        for (const line of errorLogLines(server)) problem(`cycle ${cycle + 1}, server log: ${line.slice(0, 300)}`);
        // No new request starts from here; those in flight are cut off by the kill.
        stopped = true;
        await server.crash();
        await load;
        // A revocation sent to the dead server never comes back; one chosen but not sent stays revocable.
        for (const token of tokens) if (token.revocation === "pending") token.revocation = "uncertain";

        server = await startServer(databasePath);
        const toVerify = tokens.filter((token) => token.cycle === cycle || token.revokedInCycle === cycle);
        await checkAfterRestart(server.url, toVerify, `after kill ${cycle + 1}`);
      }

      // Every acknowledged operation of every cycle, once more, on the last restart.
      await checkAfterRestart(server.url, tokens, "final sweep");
      expect(errorLogLines(server)).toEqual([]);
      expect(await server.stop(), "the last server shuts down cleanly on SIGTERM").toEqual({ code: 0, signal: null });
      const closed = checkDatabaseFile(databasePath);

      const committedUnacknowledgedCreations = closed.tokenCount - figures.acknowledgedCreations;
      const revokedIds = new Set(
        queryFile<{ id: string }>(databasePath, "select id from session_tokens where revoked_at is not null").map(
          (row) => row.id,
        ),
      );
      const committedUncertainRevocations = tokens.filter(
        (token) => token.revocation === "uncertain" && revokedIds.has(token.tokenId),
      ).length;
      const lost = figures.lostCreations + figures.lostRevocations + figures.lostBinds + figures.lostImports;
      const seconds = (Date.now() - started) / 1000;
      console.log(
        [
          `crash durability: ${CYCLES} SIGKILL/restart cycles in ${formatDuration(Date.now() - started)} (${IN_FLIGHT} requests in flight, kills ${Math.min(...killDelays)}–${Math.max(...killDelays)} ms into the load)`,
          `  acknowledged: ${figures.acknowledgedCreations} creations (${figures.acknowledgedBinds} binding a customer by email), ${figures.acknowledgedRevocations} revocations, ${figures.acknowledgedImports} import batches of ${IMPORT_BATCH}`,
          `  in flight at a kill (unacknowledged): ${figures.unacknowledgedCreations} creations (${committedUnacknowledgedCreations} committed anyway), ${figures.unacknowledgedRevocations} revocations (${committedUncertainRevocations} committed anyway), ${figures.unacknowledgedImports} import batches`,
          `  lost: ${lost} (creations ${figures.lostCreations}, revocations ${figures.lostRevocations}, binds ${figures.lostBinds}, imports ${figures.lostImports}); ${figures.verifications} verifications after restarts; integrity_check ${closed.integrity.join()}`,
          `  throughput while loaded: ~${Math.round((figures.acknowledgedCreations + figures.acknowledgedRevocations) / seconds)} acknowledged writes/s averaged over the whole run, restarts included`,
        ].join("\n"),
      );

      expect(problems).toEqual([]);
      expect(lost).toBe(0);
      expect(closed.integrity).toEqual(["ok"]);
      expect(closed.maintainedUnresolvedCount).toBe(closed.unboundCustomers);
      expect(committedUnacknowledgedCreations).toBeGreaterThanOrEqual(0);
      // The run must have exercised something: acknowledged writes, and kills that cut requests off.
      expect(figures.acknowledgedCreations).toBeGreaterThan(CYCLES * 5);
      expect(figures.acknowledgedRevocations).toBeGreaterThan(0);
      expect(figures.unacknowledgedCreations + figures.unacknowledgedRevocations).toBeGreaterThan(0);
    },
    90_000 + CYCLES * 25_000,
  );
});
