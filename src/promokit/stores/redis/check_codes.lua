-- Checking the coupon codes a customer tried against their code throttle, in one
-- step that no other client can interleave with (see Store.check_codes). The
-- throttle is a hit counter (its count, which read() and apply's expectations see)
-- and a set of the distinct wrong codes, lapsing together. Codes are taken in
-- order: one already in the set is looked up and not counted again; any other is
-- refused without a look-up once the set holds `limit` codes; else it is looked
-- up, and a code not registered joins the set.

-- KEYS: the throttle's count, its set of wrong codes, the codes hash.
-- ARGV: limit, ttl in milliseconds, then the codes (each once).
-- Reply: {failures after, {index, stored value, ...} of the found codes,
--         {indices of the throttled codes}, {indices of the counted codes}}.
local before = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[1])
if before == 0 then redis.call('DEL', KEYS[2]) end  -- a set never outlives its count
local count = before
local found, throttled, counted = {}, {}, {}
for i = 3, #ARGV do
  local code = ARGV[i]
  local known = count > 0 and redis.call('SISMEMBER', KEYS[2], code) == 1
  if not known and count >= limit then
    throttled[#throttled + 1] = i - 2
  else
    local stored = redis.call('HGET', KEYS[3], code)
    if stored then
      found[#found + 1] = i - 2
      found[#found + 1] = stored
    elseif not known then
      redis.call('SADD', KEYS[2], code)
      count = count + 1
      counted[#counted + 1] = i - 2
    end
  end
end
if #counted > 0 then
  if before == 0 then
    redis.call('SET', KEYS[1], count, 'PX', ARGV[2])
  else
    redis.call('INCRBY', KEYS[1], #counted)  -- keeps the count's expiry
  end
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then  -- a count that was given no expiry gets one
    ttl = tonumber(ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
  redis.call('PEXPIRE', KEYS[2], ttl)  -- the set lapses with its count
end
return {count, found, throttled, counted}
