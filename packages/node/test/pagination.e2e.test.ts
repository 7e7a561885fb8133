import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { revokeApiKey, systemClock } from "@billingos/server";
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  BillingOS,
  BillingOSError,
  MAX_AUTO_PAGING_TO_ARRAY,
  type SessionTokenPage,
  type SessionTokenSummary,
  type UnresolvedCustomer,
} from "../src/index.js";
import { rejectionOf, type ServerHarness, startServerHarness } from "./server-harness.js";
import { type FlakyProxy, startFlakyProxy } from "./support/flaky-proxy.js";

// A list call awaited is one page; iterated with for await, it walks every page of the real
// server. A transparent proxy in front of the server counts the pages actually requested.

let h: ServerHarness;
let proxy: FlakyProxy;

beforeAll(async () => {
  h = await startServerHarness();
  proxy = await startFlakyProxy(h.url, () => "forward");
});
afterAll(async () => {
  await proxy.close();
  await h.close();
});
afterEach(() => {
  proxy.seen.length = 0;
});

const clientOf = (secretKey: string) => new BillingOS({ secretKey, sandboxUrl: proxy.url });
const requestsTo = (procedure: string) => proxy.seen.filter((request) => request.path === `/trpc/${procedure}`).length;

/** Creates `count` tokens for the user, one after the other; their ids, newest first (the list's order). */
async function createTokens(billing: BillingOS, externalUserId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await billing.createSessionToken({ externalUserId })).tokenId);
  return ids.reverse();
}

/** Lets a request the client might still send reach the proxy before its count is read. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe("listSessionTokens", () => {
  it("awaited, answers the one page asked for, as before", async () => {
    const billing = clientOf(h.testKey.secretKey);
    const newestFirst = await createTokens(billing, "awaited", 5);
    proxy.seen.length = 0;

    const page = await billing.listSessionTokens({ externalUserId: "awaited", limit: 2 });
    expectTypeOf(page).toEqualTypeOf<SessionTokenPage>();
    expect(page.data.map((token) => token.tokenId)).toEqual(newestFirst.slice(0, 2));
    expect(page.nextCursor).toBe(newestFirst[1]);
    await settle();
    expect(requestsTo("sessionTokens.list")).toBe(1);
  });

  it("iterated, yields every token of every page once, newest first, one request per page", async () => {
    const billing = clientOf(h.testKey.secretKey);
    const newestFirst = await createTokens(billing, "many", 8);
    proxy.seen.length = 0;

    const seen: string[] = [];
    for await (const token of billing.listSessionTokens({ externalUserId: "many", limit: 3 })) {
      expectTypeOf(token).toEqualTypeOf<SessionTokenSummary>();
      expect(token.createdAt).toBeInstanceOf(Date);
      seen.push(token.tokenId);
    }
    expect(seen).toEqual(newestFirst);
    expect(new Set(seen).size).toBe(8);
    // Pages of 3, 3 and 2: the last page says there is no next one, so nothing more is asked.
    expect(requestsTo("sessionTokens.list")).toBe(3);
  });

  it("iterated from a cursor, yields the tokens after it; the status filter holds on every page", async () => {
    const billing = clientOf(h.testKey.secretKey);
    const newestFirst = await createTokens(billing, "filtered", 6);
    await billing.revokeSessionToken(newestFirst[1]!);
    await billing.revokeSessionToken(newestFirst[4]!);
    const active = newestFirst.filter((_, i) => i !== 1 && i !== 4);

    const first = await billing.listSessionTokens({ externalUserId: "filtered", status: "active", limit: 1 });
    expect(first.data.map((token) => token.tokenId)).toEqual([active[0]]);
    const rest: string[] = [];
    for await (const token of billing.listSessionTokens({
      externalUserId: "filtered",
      status: "active",
      limit: 1,
      cursor: first.nextCursor!,
    })) {
      expect(token.status).toBe("active");
      rest.push(token.tokenId);
    }
    expect(rest).toEqual(active.slice(1));
  });

  it("a break stops the fetching: nothing past the page the loop was on is requested", async () => {
    const billing = clientOf(h.testKey.secretKey);
    const newestFirst = await createTokens(billing, "broken_off", 7);

    proxy.seen.length = 0;
    const firstTwo: string[] = [];
    for await (const token of billing.listSessionTokens({ externalUserId: "broken_off", limit: 3 })) {
      firstTwo.push(token.tokenId);
      if (firstTwo.length === 2) break;
    }
    await settle();
    expect(firstTwo).toEqual(newestFirst.slice(0, 2));
    expect(requestsTo("sessionTokens.list")).toBe(1);

    proxy.seen.length = 0;
    const firstFour: string[] = [];
    for await (const token of billing.listSessionTokens({ externalUserId: "broken_off", limit: 3 })) {
      firstFour.push(token.tokenId);
      if (firstFour.length === 4) break;
    }
    await settle();
    expect(firstFour).toEqual(newestFirst.slice(0, 4));
    expect(requestsTo("sessionTokens.list")).toBe(2);
  });

  it("a page refused by the server rejects the loop with the typed BillingOSError, after the items before it", async () => {
    const key = await h.createKey("Paged Org", "test");
    const billing = clientOf(key.secretKey);
    const newestFirst = await createTokens(billing, "refused_later", 4);

    const seen: string[] = [];
    const error = await rejectionOf(async () => {
      for await (const token of billing.listSessionTokens({ externalUserId: "refused_later", limit: 2 })) {
        seen.push(token.tokenId);
        // The key is revoked while page 1 is being read: the server refuses page 2.
        if (seen.length === 2) await revokeApiKey(h.db, systemClock, key.id);
      }
    });
    expect(seen).toEqual(newestFirst.slice(0, 2));
    expect(error).toBeInstanceOf(BillingOSError);
    expect(error).toMatchObject({ code: "UNAUTHORIZED", httpStatus: 401 });
    expect((error as BillingOSError).requestId).toMatch(/^req_/);
  });

  it("refuses bad input before sending anything, awaited or iterated", async () => {
    const billing = clientOf(h.testKey.secretKey);
    proxy.seen.length = 0;
    const awaited = await rejectionOf(() => billing.listSessionTokens({ externalUserId: "u", limit: 101 }));
    const iterated = await rejectionOf(async () => {
      for await (const _token of billing.listSessionTokens({ externalUserId: "u", limit: 0 })) {
        throw new Error("no token can come from a refused call");
      }
    });
    expect(awaited).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { limit: ["limit must be at most 100"] } });
    expect(iterated).toMatchObject({ code: "BAD_REQUEST", fieldErrors: { limit: ["limit must be at least 1"] } });
    await settle();
    expect(requestsTo("sessionTokens.list")).toBe(0);
  });
});

describe("a list whose cursor does not advance", () => {
  it("stops the loop with a BillingOSError rather than walk the same pages forever", async () => {
    // The real server's page, answered again and again with the same cursor: what a stale cache or a
    // broken proxy in front of the service could send.
    const billing = clientOf(h.testKey.secretKey);
    await createTokens(billing, "stuck", 1);
    const real = await fetch(
      `${h.url}/trpc/sessionTokens.list?input=${encodeURIComponent(JSON.stringify({ externalUserId: "stuck" }))}`,
      { headers: { authorization: `Bearer ${h.testKey.secretKey}` } },
    );
    const envelope = (await real.json()) as {
      result: { data: { data: { tokenId: string }[]; nextCursor: string | null } };
    };
    const stuckAt = envelope.result.data.data[0]!.tokenId;
    envelope.result.data.nextCursor = stuckAt;
    let answered = 0;
    const stale = createServer((_req, res) => {
      answered++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(envelope));
    });
    await new Promise<void>((resolve) => stale.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = stale.address() as AddressInfo;
      const client = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: `http://127.0.0.1:${port}` });
      const seen: string[] = [];
      const rejection = await rejectionOf(async () => {
        for await (const token of client.listSessionTokens({ externalUserId: "stuck" })) seen.push(token.tokenId);
      });
      expect(rejection).toBeInstanceOf(BillingOSError);
      expect((rejection as BillingOSError).message).toContain(`cursor "${stuckAt}" a second time`);
      // The first page and the one its cursor named, then the stop: no third request.
      expect(answered).toBe(2);
      expect(seen).toHaveLength(2);
    } finally {
      await new Promise<void>((resolve) => stale.close(() => resolve()));
    }
  });
});

describe("a list that answers empty pages with fresh cursors", () => {
  it("stops at the first empty page that promises more", async () => {
    const billing = clientOf(h.testKey.secretKey);
    const [tokenId] = await createTokens(billing, "endless", 1);
    let answered = 0;
    const endless = createServer((_req, res) => {
      answered++;
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ result: { data: { data: [], nextCursor: tokenId } } }));
    });
    await new Promise<void>((resolve) => endless.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = endless.address() as AddressInfo;
      const client = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: `http://127.0.0.1:${port}` });
      const rejection = await rejectionOf(async () => {
        for await (const _token of client.listSessionTokens({ externalUserId: "endless" })) {
          // nothing comes
        }
      });
      expect(rejection).toMatchObject({ code: "INTERNAL_SERVER_ERROR", httpStatus: 200 });
      expect((rejection as BillingOSError).message).toMatch(/empty page with a cursor/);
      expect(answered).toBe(1);
    } finally {
      await new Promise<void>((resolve) => endless.close(() => resolve()));
    }
  });
});

describe("an answer that does not match the contract", () => {
  it("is a BillingOSError naming what is wrong, not a bare ZodError", async () => {
    const odd = createServer((_req, res) => {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ result: { data: { data: [], nextCursor: 42 } } }));
    });
    await new Promise<void>((resolve) => odd.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = odd.address() as AddressInfo;
      const client = new BillingOS({ secretKey: h.testKey.secretKey, sandboxUrl: `http://127.0.0.1:${port}` });
      const rejection = await rejectionOf(() => client.listSessionTokens({ externalUserId: "anyone" }));
      expect(rejection).toBeInstanceOf(BillingOSError);
      expect(rejection).toMatchObject({ code: "INTERNAL_SERVER_ERROR", httpStatus: 200 });
      expect((rejection as BillingOSError).message).toMatch(/does not match the BillingOS API at nextCursor/);
    } finally {
      await new Promise<void>((resolve) => odd.close(() => resolve()));
    }
  });
});

describe("autoPagingToArray", () => {
  it("collects up to its limit, fetching only the pages it needs", async () => {
    const billing = clientOf(h.testKey.secretKey);
    const newestFirst = await createTokens(billing, "to_array", 7);
    proxy.seen.length = 0;

    const five = await billing
      .listSessionTokens({ externalUserId: "to_array", limit: 3 })
      .autoPagingToArray({ limit: 5 });
    expectTypeOf(five).toEqualTypeOf<SessionTokenSummary[]>();
    expect(five.map((token) => token.tokenId)).toEqual(newestFirst.slice(0, 5));
    await settle();
    expect(requestsTo("sessionTokens.list")).toBe(2);

    const all = await billing
      .listSessionTokens({ externalUserId: "to_array", limit: 3 })
      .autoPagingToArray({ limit: 100 });
    expect(all.map((token) => token.tokenId)).toEqual(newestFirst);
  });

  it("needs a limit from 1 to 10000", async () => {
    const list = clientOf(h.testKey.secretKey).listSessionTokens({ externalUserId: "nobody" });
    for (const limit of [0, -1, 1.5, MAX_AUTO_PAGING_TO_ARRAY + 1, Number.NaN]) {
      const error = await rejectionOf(() => list.autoPagingToArray({ limit }));
      expect(error).toBeInstanceOf(BillingOSError);
      expect(error).toMatchObject({ code: "BAD_REQUEST" });
      expect((error as Error).message).toContain("autoPagingToArray needs a limit from 1 to 10000");
    }
    // @ts-expect-error the cap is mandatory
    const missing = await rejectionOf(() => list.autoPagingToArray({}));
    expect(missing).toMatchObject({ code: "BAD_REQUEST" });
    expect(await list.autoPagingToArray({ limit: MAX_AUTO_PAGING_TO_ARRAY })).toEqual([]);
  });
});

describe("listUnresolvedCustomers", () => {
  it("iterated, yields every unresolved customer once, oldest import first, keeping the reason filter", async () => {
    const key = await h.createKey("Importer", "test");
    const billing = clientOf(key.secretKey);
    const customers = Array.from({ length: 7 }, (_, i) => ({
      stripeCustomerId: `cus_P${i}`,
      ...(i % 2 === 0 ? { email: `p${i}@example.com` } : {}),
    }));
    await billing.importCustomers({ customers });
    proxy.seen.length = 0;

    const all: string[] = [];
    for await (const customer of billing.listUnresolvedCustomers({ limit: 2 })) {
      expectTypeOf(customer).toEqualTypeOf<UnresolvedCustomer>();
      all.push(customer.stripeCustomerId);
    }
    expect(all).toEqual(customers.map((customer) => customer.stripeCustomerId));
    expect(requestsTo("customers.listUnresolved")).toBe(4);

    const noEmail: string[] = [];
    for await (const customer of billing.listUnresolvedCustomers({ reason: "no_email", limit: 1 })) {
      expect(customer.reason).toBe("no_email");
      noEmail.push(customer.stripeCustomerId);
    }
    expect(noEmail).toEqual(["cus_P1", "cus_P3", "cus_P5"]);

    // Without input, as before: the first page of the server's default size.
    const page = await billing.listUnresolvedCustomers();
    expect(page.data).toHaveLength(7);
    expect(page.nextCursor).toBeNull();
  });
});
