import { type Database, directReaderOf } from "../db/database.js";
import { findApiKeyByHash } from "./api-keys.repository.js";

type ApiKeyLookup = NonNullable<Awaited<ReturnType<typeof findApiKeyByHash>>>;

/** More distinct keys than any deployment holds; past it the cache starts over rather than grow. */
const MAX_ENTRIES = 10_000;

interface KeyCache {
  dataVersion: number;
  byHash: Map<string, ApiKeyLookup>;
}

const caches = new WeakMap<Database, KeyCache>();

/**
 * Every merchant-API call looks its key up, and keys almost never change: found keys are kept in
 * memory for as long as SQLite's data_version says nothing was committed since they were read (by
 * this process or any other), which costs one pragma instead of a query. Any commit (a key
 * revoked anywhere, but also a token created) empties the cache, so a revocation holds for the
 * very next call exactly as a fresh read would. Unknown keys are not kept, so guessing cannot
 * grow it. Databases without a reader connection (:memory:, a transaction) read every time.
 */
export async function findApiKeyByHashCached(db: Database, keyHash: string): Promise<ApiKeyLookup | undefined> {
  const reader = directReaderOf(db);
  if (reader === undefined) return findApiKeyByHash(db, keyHash);
  // The version is read before the key: a commit in between can only make the cache look older
  // than it is (one more miss), never serve a row older than the version it is filed under.
  const dataVersion = reader.dataVersion();
  let cache = caches.get(db);
  if (cache === undefined || cache.dataVersion !== dataVersion || cache.byHash.size >= MAX_ENTRIES) {
    cache = { dataVersion, byHash: new Map() };
    caches.set(db, cache);
  }
  const cached = cache.byHash.get(keyHash);
  if (cached !== undefined) return cached;
  const key = await findApiKeyByHash(db, keyHash);
  if (key !== undefined) cache.byHash.set(keyHash, key);
  return key;
}
