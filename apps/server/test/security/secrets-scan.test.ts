import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SECRET_KEY_PREFIXES, SESSION_TOKEN_PREFIXES } from "@billingos/contracts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BillingOS, BillingOSError } from "../../../../packages/node/src/index.js";
import { createSessionClient } from "../../../../packages/node/src/session/index.js";
import { type CreatedApiKey, createApiKey, revokeApiKey } from "../../src/api-keys/api-keys.service.js";
import { type RunningHttpServer, startHttpServer } from "../../src/http/http-server.js";
import { MemoryRateLimiter } from "../../src/rate-limits/memory-rate-limiter.js";
import { ManualClock } from "../../src/shared/clock.js";
import { createLogger } from "../../src/shared/logger.js";
import { openSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/store.js";
import { START_TIME } from "../harness.js";
import { send } from "./http-client.js";
import { windowsOf } from "./support.js";

// Issue 6 §6: secret keys and session tokens exist only as hashes at rest, never reach a log line,
// and are never echoed back in an error. A realistic run (keys, imports, creates, verifies, binds,
// browser calls, revocations, and refusals of bad credentials) on a FILE database, with every log
// level captured; then the database files, the logs and every refused answer are scanned for each
// secret and for every 16-character piece of its random part.

const HANDLERS = ["fast", "stock"] as const;

/** The parts of a secret that must never appear: the whole of it, and every 16-character window after its prefix. */
function needlesOf(secret: string): string[] {
  const prefix = [...Object.values(SESSION_TOKEN_PREFIXES), ...Object.values(SECRET_KEY_PREFIXES)].find((candidate) =>
    secret.startsWith(candidate),
  );
  return [secret, ...windowsOf(prefix === undefined ? secret : secret.slice(prefix.length), 16)];
}

/** The needles of `secrets` found in `haystack` (empty when clean). */
function leaksIn(haystack: string, secrets: readonly string[]): string[] {
  return secrets.flatMap((secret) =>
    needlesOf(secret)
      .filter((needle) => haystack.includes(needle))
      .map((needle) => `${needle} (of ${secret.slice(0, 20)}…)`),
  );
}

/** Every byte SQLite wrote: the database, its WAL and shared-memory index, as latin1 and as UTF-16 text. */
function databaseText(path: string): string {
  const bytes = Buffer.concat(
    [path, `${path}-wal`, `${path}-shm`, `${path}-journal`].filter(existsSync).map((file) => readFileSync(file)),
  );
  return `${bytes.toString("latin1")}\n${bytes.toString("utf16le")}`;
}

/** One character of the secret's random part changed: what a typo or a forger sends. */
const damaged = (secret: string) => secret.slice(0, -10) + (secret.at(-10) === "A" ? "B" : "A") + secret.slice(-9);

let dir: string;
let path: string;
let db: Store;
let clock: ManualClock;
let server: RunningHttpServer;
let logLines: string[];

async function start(handler: (typeof HANDLERS)[number]) {
  dir = mkdtempSync(join(tmpdir(), "billingos-security-scan-"));
  path = join(dir, "billingos.sqlite");
  db = await openSqliteStore({ path });
  clock = new ManualClock(START_TIME);
  logLines = [];
  // Trace: every level the server could ever log at is captured.
  const logger = createLogger("trace", { write: (line: string) => void logLines.push(line) });
  server = await startHttpServer({
    deps: { store: db, clock, logger, createRateLimiter: new MemoryRateLimiter(4, clock) },
    port: 0,
    host: "127.0.0.1",
    handler,
  });
}

afterEach(async () => {
  await server.close(1_000);
  await db.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

/** A raw call as any HTTP client would make it; returns status and body text. */
function call(
  procedure: string,
  { credential, input, method }: { credential?: string; input?: unknown; method: "GET" | "POST" },
) {
  const headers: Record<string, string> = credential === undefined ? {} : { authorization: `Bearer ${credential}` };
  if (method === "GET") {
    const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return send(server.port, { path: `/trpc/${procedure}${query}`, headers });
  }
  return send(server.port, {
    method,
    path: `/trpc/${procedure}`,
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(input ?? {}),
  });
}

describe.each(HANDLERS)("secrets after a realistic run (%s handler)", (handler) => {
  beforeEach(() => start(handler));

  it("no key or token (nor a 16-character piece) in the database files, the logs, or any refused answer", async () => {
    const secrets: string[] = [];
    const keep = <T extends { secretKey: string } | { sessionToken: string }>(value: T): T => {
      secrets.push("secretKey" in value ? value.secretKey : value.sessionToken);
      return value;
    };
    /** Refused answers: what was sent, and what came back (body or client error message). */
    const refusals: Array<{ what: string; sent: string; answer: string; status?: number }> = [];

    // --- Operators create keys (as the admin CLI does).
    const aTest = keep(await createApiKey(db, clock, { organizationName: "Acme", environment: "test" }));
    const aLive = keep(await createApiKey(db, clock, { organizationName: "Acme", environment: "live" }));
    const bTest = keep(await createApiKey(db, clock, { organizationName: "Globex", environment: "test" }));
    const spare: CreatedApiKey = keep(await createApiKey(db, clock, { organizationName: "Acme", environment: "test" }));

    // --- The merchant backend, through the node client.
    const client = (key: CreatedApiKey) =>
      new BillingOS({ secretKey: key.secretKey, sandboxUrl: server.url, productionUrl: server.url });
    const billing = client(aTest);
    await billing.importCustomers({
      customers: [
        { stripeCustomerId: "cus_lazy", email: "lazy@example.com", name: "Lazy" },
        { stripeCustomerId: "cus_pre", email: "pre@example.com", metadata: { external_id: "user_pre" } },
        { stripeCustomerId: "cus_manual", email: "manual@example.com" },
        { stripeCustomerId: "cus_shared1", email: "shared@example.com" },
        { stripeCustomerId: "cus_shared2", email: "shared@example.com" },
      ],
    });
    const t1 = keep(
      await billing.createSessionToken({
        externalUserId: "user_lazy",
        email: "lazy@example.com",
        metadata: { ip: "203.0.113.9", ua: "Mozilla/5.0" },
      }),
    );
    const t2 = keep(
      await billing.createSessionToken({
        externalUserId: "user_2",
        externalOrganizationId: "org_9",
        allowedOperations: ["session:read"],
      }),
    );
    const t3 = keep(await billing.createSessionToken({ externalUserId: "user_3", expiresIn: 600 }));
    const t4 = keep(await billing.createSessionToken({ externalUserId: "user_4", email: "shared@example.com" }));
    const live = keep(await client(aLive).createSessionToken({ externalUserId: "user_lazy" }));
    expect((await billing.verifySessionToken(t1.sessionToken)).valid).toBe(true);
    expect(await billing.verifySessionToken(t2.sessionToken, { operation: "customer:read" })).toEqual({
      valid: false,
      reason: "operation_not_allowed",
    });
    expect((await billing.listSessionTokens({ externalUserId: "user_lazy" })).data).toHaveLength(1);
    expect((await billing.bindCustomer({ stripeCustomerId: "cus_manual", externalUserId: "user_3" })).boundBy).toBe(
      "manual",
    );
    expect((await billing.getCustomer({ externalUserId: "user_lazy" })).stripeCustomerId).toBe("cus_lazy");
    expect((await billing.listUnresolvedCustomers()).data.length).toBeGreaterThan(0);
    const audit = await call("audit.listForCustomer", {
      credential: aTest.secretKey,
      input: { externalUserId: "user_lazy" },
      method: "GET",
    });
    expect(audit.status).toBe(200);

    // --- The browser, through the session client and raw calls.
    const browser = createSessionClient({
      sessionToken: t1.sessionToken,
      sandboxUrl: server.url,
      productionUrl: server.url,
    });
    expect((await browser.getSession()).tokenId).toBe(t1.tokenId);
    expect((await browser.getCustomer()).stripeCustomer?.stripeCustomerId).toBe("cus_lazy");
    expect((await call("session.get", { credential: t4.sessionToken, method: "GET" })).status).toBe(200);

    // --- Revocations: by id, by token, for a customer, by sign-out, by key revocation.
    await billing.revokeSessionToken(t3.tokenId);
    await billing.revokeSessionToken(t2.sessionToken);
    await billing.revokeCustomerSessionTokens({ externalOrganizationId: "org_9" });
    const spareToken = keep(await client(spare).createSessionToken({ externalUserId: "user_spare" }));
    await revokeApiKey(db, clock, spare.id);

    // --- Refusals: bad, revoked and misplaced credentials, each answer kept for the scan.
    const refuse = async (what: string, sent: string, answer: Promise<{ status: number; body: string }>) => {
      const { status, body } = await answer;
      refusals.push({ what, sent, answer: body, status });
    };
    // A damaged secret key: fails its checksum.
    await refuse(
      "damaged key",
      damaged(aTest.secretKey),
      call("sessionTokens.list", {
        credential: damaged(aTest.secretKey),
        input: { externalUserId: "u" },
        method: "GET",
      }),
    );
    // A revoked key.
    await refuse(
      "revoked key",
      spare.secretKey,
      call("sessionTokens.create", { credential: spare.secretKey, input: { externalUserId: "u" }, method: "POST" }),
    );
    // A session token where a secret key belongs.
    await refuse(
      "token as key",
      t4.sessionToken,
      call("sessionTokens.list", { credential: t4.sessionToken, input: { externalUserId: "u" }, method: "GET" }),
    );
    // A secret key where a session token belongs.
    await refuse("key as token", aTest.secretKey, call("session.get", { credential: aTest.secretKey, method: "GET" }));
    // A damaged session token, a revoked one, one of a revoked key.
    await refuse(
      "damaged token",
      damaged(t4.sessionToken),
      call("session.customer", { credential: damaged(t4.sessionToken), method: "GET" }),
    );
    await refuse("revoked token", t3.sessionToken, call("session.get", { credential: t3.sessionToken, method: "GET" }));
    await refuse(
      "token of a revoked key",
      spareToken.sessionToken,
      call("session.get", { credential: spareToken.sessionToken, method: "GET" }),
    );
    // A live token verified and revoked with a test key.
    await refuse(
      "live token, test key (verify)",
      live.sessionToken,
      call("sessionTokens.verify", {
        credential: aTest.secretKey,
        input: { sessionToken: live.sessionToken },
        method: "POST",
      }),
    );
    await refuse(
      "live token, test key (revoke)",
      live.sessionToken,
      call("sessionTokens.revoke", {
        credential: aTest.secretKey,
        input: { sessionToken: live.sessionToken },
        method: "POST",
      }),
    );
    // Damaged and oversized tokens in inputs.
    await refuse(
      "damaged token (revoke)",
      damaged(t4.sessionToken),
      call("sessionTokens.revoke", {
        credential: aTest.secretKey,
        input: { sessionToken: damaged(t4.sessionToken) },
        method: "POST",
      }),
    );
    const tooLong = t4.sessionToken.repeat(8);
    await refuse(
      "token repeated past 512 chars",
      tooLong,
      call("sessionTokens.verify", { credential: aTest.secretKey, input: { sessionToken: tooLong }, method: "POST" }),
    );
    // Tokens and keys in the wrong fields.
    await refuse(
      "token as tokenId",
      t4.sessionToken,
      call("sessionTokens.revoke", {
        credential: aTest.secretKey,
        input: { tokenId: t4.sessionToken },
        method: "POST",
      }),
    );
    await refuse(
      "token as email",
      t4.sessionToken,
      call("sessionTokens.create", {
        credential: aTest.secretKey,
        input: { externalUserId: "u", email: t4.sessionToken },
        method: "POST",
      }),
    );
    await refuse(
      "key in an unknown field",
      bTest.secretKey,
      call("sessionTokens.create", {
        credential: aTest.secretKey,
        input: { externalUserId: "u", secretKey: bTest.secretKey },
        method: "POST",
      }),
    );
    // Malformed JSON around a token.
    await refuse(
      "malformed JSON holding a token",
      t4.sessionToken,
      send(server.port, {
        method: "POST",
        path: "/trpc/sessionTokens.verify",
        headers: { authorization: `Bearer ${aTest.secretKey}`, "content-type": "application/json" },
        body: `{"sessionToken": ${t4.sessionToken}}`,
      }),
    );
    // A key sent with the wrong scheme.
    await refuse(
      "key with Basic scheme",
      aTest.secretKey,
      send(server.port, {
        path: "/trpc/sessionTokens.list?input=%7B%7D",
        headers: { authorization: `Basic ${aTest.secretKey}` },
      }),
    );
    // Rate-limited creates (4 a minute for this server).
    for (let i = 0; i < 4; i++)
      keep((await client(bTest).createSessionToken({ externalUserId: `user_b${i}` })) as { sessionToken: string });
    await refuse(
      "rate-limited create",
      bTest.secretKey,
      call("sessionTokens.create", { credential: bTest.secretKey, input: { externalUserId: "u" }, method: "POST" }),
    );
    // The node client's own error for a damaged key, and the session client's for a revoked token.
    for (const [what, sent, attempt] of [
      [
        "client, damaged key",
        damaged(aLive.secretKey),
        () => client({ ...aLive, secretKey: damaged(aLive.secretKey) }).createSessionToken({ externalUserId: "u" }),
      ],
      [
        "session client, revoked token",
        t3.sessionToken,
        () =>
          createSessionClient({
            sessionToken: t3.sessionToken,
            sandboxUrl: server.url,
            productionUrl: server.url,
          }).getSession(),
      ],
    ] as const) {
      const error = await attempt().then(
        () => new Error("expected a refusal"),
        (thrown: unknown) => thrown,
      );
      expect(error, what).toBeInstanceOf(BillingOSError);
      refusals.push({ what, sent, answer: `${(error as Error).message} ${JSON.stringify(error)}` });
    }
    // The browser signs out last (t1 is then revoked).
    await browser.signOut();

    // Every refusal was one (a 4xx, or valid:false for verify), and none echoes what was sent or any secret.
    for (const refusal of refusals) {
      if (refusal.status !== undefined)
        expect(refusal.status, refusal.what).toBeGreaterThanOrEqual(refusal.what.includes("(verify)") ? 200 : 400);
      expect(
        leaksIn(refusal.answer, [refusal.sent, ...secrets]),
        `${refusal.what} echoed: ${refusal.answer.slice(0, 300)}`,
      ).toEqual([]);
    }
    expect(refusals.length).toBeGreaterThanOrEqual(18);

    // --- The database files while open (recent writes in the WAL) and after close (checkpointed).
    const whileOpen = databaseText(path);
    // The scan does see what is stored: ids and emails are there in the clear.
    expect(whileOpen).toContain(t1.tokenId);
    expect(whileOpen).toContain("lazy@example.com");
    expect(leaksIn(whileOpen, secrets), "secrets in the database files while open").toEqual([]);

    // --- The logs, every level.
    const logs = logLines.join("\n");
    // The capture works: the refusals were logged (trace level catches the debug "request refused"
    // lines; a refused session token's reason is on its request's access-log line).
    expect(logLines.some((line) => line.includes('"msg":"request"') && line.includes('"reason":"revoked"'))).toBe(true);
    expect(
      logLines.some((line) => line.includes('"msg":"request"') && line.includes('"errorCode":"UNAUTHORIZED"')),
    ).toBe(true);
    expect(logLines.some((line) => line.includes("request refused"))).toBe(true);
    expect(leaksIn(logs, secrets), "secrets in the server's logs").toEqual([]);

    await server.close(1_000);
    await db.close();
    const afterClose = databaseText(path);
    expect(afterClose).toContain(t1.tokenId);
    expect(leaksIn(afterClose, secrets), "secrets in the database file after close").toEqual([]);
  });

  it("a token pasted into an enum field (operation) is not echoed back in the validation message", async () => {
    const key = await createApiKey(db, clock, { organizationName: "Acme", environment: "test" });
    const { sessionToken } = await new BillingOS({
      secretKey: key.secretKey,
      sandboxUrl: server.url,
      productionUrl: server.url,
    }).createSessionToken({ externalUserId: "u" });
    const answer = await call("sessionTokens.verify", {
      credential: key.secretKey,
      input: { sessionToken, operation: sessionToken },
      method: "POST",
    });
    // Refused: not an operation name (400); the message may list the valid names, not repeat the token.
    expect(answer.status).toBe(400);
    expect(leaksIn(answer.body, [sessionToken]), answer.body.slice(0, 300)).toEqual([]);
  });

  it("a token or key pasted as a field NAME, or a long field name, is not echoed back in the validation answer", async () => {
    const key = await createApiKey(db, clock, { organizationName: "Acme", environment: "test" });
    const other = await createApiKey(db, clock, { organizationName: "Globex", environment: "test" });
    const { sessionToken } = await new BillingOS({
      secretKey: key.secretKey,
      sandboxUrl: server.url,
      productionUrl: server.url,
    }).createSessionToken({ externalUserId: "u" });
    const secrets = [sessionToken, other.secretKey];
    const longName = "field_".repeat(20);
    const attempts: Array<[procedure: string, input: Record<string, unknown>]> = [
      // At the top level of an input, and nested in an import row; the token's random part alone, too.
      ["sessionTokens.create", { externalUserId: "u", [sessionToken]: 1 }],
      ["sessionTokens.verify", { sessionToken, [other.secretKey]: true }],
      ["sessionTokens.create", { externalUserId: "u", [sessionToken.slice("bos_session_test_".length)]: 1 }],
      ["customers.import", { customers: [{ stripeCustomerId: "cus_A1", [other.secretKey]: "x" }] }],
      ["sessionTokens.create", { externalUserId: "u", [longName]: 1 }],
    ];
    for (const [procedure, input] of attempts) {
      const answer = await call(procedure, { credential: key.secretKey, input, method: "POST" });
      expect(answer.status, answer.body.slice(0, 300)).toBe(400);
      expect(leaksIn(answer.body, secrets), answer.body.slice(0, 300)).toEqual([]);
      expect(answer.body).not.toContain(longName);
      // Still a field error a person can act on: an unknown field, described by its length.
      expect(JSON.parse(answer.body).error.message).toMatch(/Unknown field \(name not shown: \d+ characters\)/);
    }
    // A short ordinary typo is still named, so it can be fixed at a glance.
    // (verify, not create: this server allows 4 creates a minute, and they are spent above.)
    const typo = await call("sessionTokens.verify", {
      credential: key.secretKey,
      input: { sessionToken, opration: "customer:read" },
      method: "POST",
    });
    expect(JSON.parse(typo.body).error.data.fieldErrors).toEqual({ opration: ['Unknown field "opration"'] });
  });

  it("a credential in the URL path is neither echoed back nor logged", async () => {
    const key = await createApiKey(db, clock, { organizationName: "Acme", environment: "test" });
    const { sessionToken } = await new BillingOS({
      secretKey: key.secretKey,
      sandboxUrl: server.url,
      productionUrl: server.url,
    }).createSessionToken({ externalUserId: "u" });
    for (const url of [`/trpc/${sessionToken}`, `/trpc/${key.secretKey}`, `/${sessionToken}`]) {
      const answer = await send(server.port, { path: url, headers: { authorization: `Bearer ${key.secretKey}` } });
      // Refused: no such procedure or page (404), without repeating the path that holds the secret.
      expect(answer.status, url).toBe(404);
      expect(leaksIn(answer.body, [sessionToken, key.secretKey]), `${url} → ${answer.body.slice(0, 300)}`).toEqual([]);
    }
    expect(leaksIn(logLines.join("\n"), [sessionToken, key.secretKey]), "secrets in the logs").toEqual([]);
  });
});
