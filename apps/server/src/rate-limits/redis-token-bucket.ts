import { createHash } from "node:crypto";
import { REFILL_SLACK } from "./token-bucket.js";

/**
 * The token bucket as one Lua script: Redis runs it atomically, so one round trip both reads and
 * updates the bucket, exact across every host sharing the Redis. The same arithmetic as
 * token-bucket.ts in double precision, stored with 17 significant digits (a double round-trips).
 * The time is the caller's clock (hosts are expected to keep theirs in sync, as for token expiry);
 * a clock behind the bucket's refills nothing rather than taking back. The key expires once the
 * bucket is full again: no key is the same as a full bucket.
 *
 * KEYS[1] the bucket; ARGV: now (ms), cost, needed, perMinute, refillPerMs, take (1) or check (0).
 * Returns {1} when allowed, {0, tokens held} when refused.
 */
export const TOKEN_BUCKET_LUA = `
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local needed = tonumber(ARGV[3])
local capacity = tonumber(ARGV[4])
local rate = tonumber(ARGV[5])
local take = ARGV[6] == '1'
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = capacity
local updated = now
if state[1] then
  tokens = tonumber(state[1])
  updated = tonumber(state[2])
end
local elapsed = now - updated
if elapsed < 0 then elapsed = 0 end
tokens = math.min(capacity, tokens + elapsed * rate)
if now > updated then updated = now end
local allowed = tokens + ${REFILL_SLACK} >= needed
if take then
  if allowed then tokens = tokens - cost end
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'u', string.format('%.17g', updated))
  redis.call('PEXPIRE', KEYS[1], math.floor((capacity - tokens) / rate) + 1)
end
if allowed then return {1} end
return {0, string.format('%.17g', tokens)}
`;

export const TOKEN_BUCKET_SHA1 = createHash("sha1").update(TOKEN_BUCKET_LUA).digest("hex");
