import type { DirectReader } from "./direct-statements.js";

/** More distinct keys than any deployment holds; past it the cache starts over rather than grow. */
const MAX_ENTRIES = 10_000;

/**
 * Every merchant-API call looks its key up, and keys almost never change: found rows are kept in
 * memory for as long as SQLite's data_version says nothing was committed since they were read (by
 * this process or any other), which costs one pragma instead of a query. Any commit (a key revoked
 * anywhere, but also a token created) empties the cache, so a revocation holds for the very next
 * call exactly as a fresh read would. Misses are not kept, so guessing cannot grow it.
 */
export class DataVersionCache {
  #dataVersion = -1;
  #rows = new Map<string, unknown>();

  constructor(private readonly reader: DirectReader) {}

  async read<Row>(cacheKey: string, load: () => Promise<Row | undefined>): Promise<Row | undefined> {
    // The version is read before the row: a commit in between can only make the cache look older
    // than it is (one more miss), never serve a row older than the version it is filed under.
    const dataVersion = this.reader.dataVersion();
    if (dataVersion !== this.#dataVersion || this.#rows.size >= MAX_ENTRIES) {
      this.#dataVersion = dataVersion;
      this.#rows = new Map();
    }
    const rows = this.#rows;
    const cached = rows.get(cacheKey) as Row | undefined;
    if (cached !== undefined) return cached;
    const row = await load();
    if (row !== undefined) rows.set(cacheKey, row);
    return row;
  }
}
