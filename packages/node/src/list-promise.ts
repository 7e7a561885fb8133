import { BillingOSError } from "./billingos-error.js";

/** What every paged answer of the API looks like: a page of items and the cursor of the next one. */
export interface Page {
  data: readonly unknown[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** The items of a page type. */
export type ItemOf<P extends Page> = P["data"][number];

/** The most `autoPagingToArray` collects: a cap that stops a loop over a huge list from exhausting memory. */
export const MAX_AUTO_PAGING_TO_ARRAY = 10_000;

/**
 * What a list call returns, as Stripe's client does: awaited, the one page it asked for (as a plain
 * call); iterated with `for await`, every item of that page and of the pages after it, fetched one
 * page at a time as the loop gets there (a `break` fetches nothing more).
 */
export type ListPromise<P extends Page> = Promise<P> &
  AsyncIterable<ItemOf<P>> & {
    /**
     * Every item from this page on, up to `limit` (mandatory, 1–10000): fetches only the pages needed.
     * For more, iterate with `for await` instead of holding everything in memory.
     */
    autoPagingToArray(options: { limit: number }): Promise<ItemOf<P>[]>;
  };

/**
 * A ListPromise over `fetchPage`. The first page is requested at once (an awaited list call costs
 * what it did before); each later page only when an iteration has used up the previous one.
 */
export function listPromise<I extends { cursor?: string | undefined }, P extends Page>(
  input: I,
  fetchPage: (input: I) => Promise<P>,
): ListPromise<P> {
  const first = fetchPage(input);
  // Whoever holds the list only to iterate it later must not have a failed first page reported as
  // an unhandled rejection (which ends a Node process) before the loop starts; awaiting it, or
  // iterating, still gets the error.
  first.catch(() => {});

  async function* items(): AsyncGenerator<ItemOf<P>, void, undefined> {
    let page = await first;
    const followed = new Set<string>(input.cursor === undefined ? [] : [input.cursor]);
    for (;;) {
      // P["data"] is an array of ItemOf<P> by definition; the compiler only widens it to its bound.
      yield* page.data as readonly ItemOf<P>[];
      if (page.nextCursor === null) return;
      // The API gives a cursor only when more items follow: an empty page with one is not its answer,
      // and following such cursors could go on for ever.
      if (page.data.length === 0) {
        throw new BillingOSError({
          code: "INTERNAL_SERVER_ERROR",
          httpStatus: 200,
          message: "The list answered an empty page with a cursor to more; stopped rather than follow it",
        });
      }
      // A cursor already followed would walk the same pages forever (a proxy or cache answering
      // stale pages): the loop stops with an error instead.
      if (followed.has(page.nextCursor)) {
        throw new BillingOSError({
          code: "INTERNAL_SERVER_ERROR",
          httpStatus: 200,
          message: `The list answered cursor ${JSON.stringify(page.nextCursor)} a second time; stopped rather than loop over the same pages`,
        });
      }
      followed.add(page.nextCursor);
      page = await fetchPage({ ...input, cursor: page.nextCursor });
    }
  }

  async function autoPagingToArray(options: { limit: number }): Promise<ItemOf<P>[]> {
    const limit = options?.limit;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_AUTO_PAGING_TO_ARRAY) {
      throw new BillingOSError({
        code: "BAD_REQUEST",
        message: `autoPagingToArray needs a limit from 1 to ${MAX_AUTO_PAGING_TO_ARRAY}; got ${String(limit)}. For more, iterate with for await`,
      });
    }
    const collected: ItemOf<P>[] = [];
    for await (const item of items()) {
      collected.push(item);
      if (collected.length === limit) break;
    }
    return collected;
  }

  return Object.assign(first, { [Symbol.asyncIterator]: items, autoPagingToArray });
}
