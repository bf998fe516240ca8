-- Redis turns integer replies into Lua numbers (doubles, exact only up to 2**53),
-- so the apply script never compares counters as numbers it cannot hold exactly:
-- it reads them with MGET (bulk strings, exact), and when any of value, amount or
-- limit has 16 characters or more it compares them as pairs (hi, lo) with
-- value = hi * 10**9 + lo and 0 <= lo < 10**9, where hi and lo are small enough to
-- be exact. Writes use INCRBY with the amount as text, which Redis does in 64-bit
-- integers. An expectation's bounds are compared the same way. The script returns
-- the counters as they were (text); Python adds the amounts with its own integers.

-- KEYS: order hash, expiry zset, ledger list, then one counter per delta, then
--       one counter per expectation, then one journal list per stream written.
-- ARGV: expected revision, status, expires_at ('' = none), body, order id,
--       number of deltas, number of ledger entries, number of expectations,
--       then amount and limit ('' = none) per delta, then low and high
--       ('' = none) per expectation, then the ledger entries, then per journal
--       list the number of its entries followed by, per entry, its condition
--       ('' = none, else "<delta index> <low> <high or ->") and its body.
local order, n, m, e = KEYS[1], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local revision = redis.call('HGET', order, 'revision') or '0'
if revision ~= ARGV[1] then
  if revision == '0' then return {0, '0'} end
  local row = redis.call('HMGET', order, 'status', 'expires_at', 'body')
  return {0, revision, row[1], row[2], row[3]}
end

-- The reply: {state, revision, the counters as they were, ...}; the deltas'
-- counters sit at reply[2 + i], the expected ones at reply[2 + n + j].
local reply = {1, revision}
for first = 4, 3 + n + e, 1000 do
  local got = redis.call('MGET', unpack(KEYS, first, math.min(first + 999, 3 + n + e)))
  for i = 1, #got do reply[#reply + 1] = got[i] or '0' end
end

local B = 1000000000
local function big(s)  -- decimal text -> {hi, lo}, exact for 64-bit integers
  local negative = string.byte(s, 1) == 45
  if negative then s = string.sub(s, 2) end
  local hi, lo = 0, tonumber(s)
  if #s > 9 then
    hi, lo = tonumber(string.sub(s, 1, #s - 9)), tonumber(string.sub(s, #s - 8))
  end
  if not negative then return {hi, lo} end
  if lo > 0 then return {-hi - 1, B - lo} end
  return {-hi, 0}
end
local function less(x, y)
  return x[1] < y[1] or (x[1] == y[1] and x[2] < y[2])
end
local MAX = {9223372036, 854775807}

if e > 0 then  -- the expectations, before any limit
  local stale = {}
  for j = 1, e do
    local v, lo, hi = reply[2 + n + j], ARGV[7 + 2 * n + 2 * j], ARGV[8 + 2 * n + 2 * j]
    if not string.find(v, '^%-?%d+$') then
      return redis.error_reply('counter ' .. KEYS[3 + n + j] .. ' holds a non-integer')
    end
    if #v < 16 and #lo < 16 and #hi < 16 then
      local x = tonumber(v)
      if x < tonumber(lo) or (hi ~= '' and x > tonumber(hi)) then stale[#stale + 1] = j end
    else
      local x = big(v)
      if less(x, big(lo)) or (hi ~= '' and less(big(hi), x)) then
        stale[#stale + 1] = j
      end
    end
  end
  if #stale > 0 then  -- {3, revision, values..., indices of the stale expectations...}
    reply[1] = 3
    for j = 1, #stale do reply[#reply + 1] = stale[j] end
    return reply
  end
end

local refused, overflow = {}, nil
for i = 1, n do
  local v, a, l = reply[2 + i], ARGV[7 + 2 * i], ARGV[8 + 2 * i]
  if not string.find(v, '^%-?%d+$') then
    return redis.error_reply('counter ' .. KEYS[i + 3] .. ' holds a non-integer')
  end
  local up = string.byte(a, 1) ~= 45 and a ~= '0'
  if #v < 16 and #a < 16 and #l < 16 then
    local after = tonumber(v) + tonumber(a)
    if after < 0 or (up and l ~= '' and after > tonumber(l)) then
      refused[#refused + 1] = i
    end
  else
    local x, y = big(v), big(a)
    local after = {x[1] + y[1], x[2] + y[2]}
    if after[2] >= B then after = {after[1] + 1, after[2] - B} end
    if after[1] < 0 or (up and l ~= '' and less(big(l), after)) then
      refused[#refused + 1] = i
    elseif less(MAX, after) then
      overflow = KEYS[i + 3]
    end
  end
end
if #refused > 0 then  -- {2, revision, values..., indices of the refused deltas...}
  reply[1] = 2
  for i = 1, #refused do reply[#reply + 1] = refused[i] end
  return reply
end
if overflow then
  return redis.error_reply('counter ' .. overflow .. ' would pass 2^63-1')
end

for i = 1, n do
  local a = ARGV[7 + 2 * i]
  if a ~= '0' then redis.call('INCRBY', KEYS[i + 3], a) end
end
local new = string.format('%d', tonumber(revision) + 1)
redis.call('HSET', order, 'revision', new, 'status', ARGV[2],
           'expires_at', ARGV[3], 'body', ARGV[4])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
elseif revision ~= '0' then
  redis.call('ZREM', KEYS[2], ARGV[5])
end
local ledger_end = 8 + 2 * n + 2 * e + m
for first = 9 + 2 * n + 2 * e, ledger_end, 1000 do
  redis.call('RPUSH', KEYS[3], unpack(ARGV, first, math.min(first + 999, ledger_end)))
end
-- A delta's counter after the change, as {hi, lo} and as decimal text.
local function after_of(i)
  local x, y = big(reply[2 + i]), big(ARGV[7 + 2 * i])
  local v = {x[1] + y[1], x[2] + y[2]}
  if v[2] >= B then v = {v[1] + 1, v[2] - B} end
  if v[2] < 0 then v = {v[1] - 1, v[2] + B} end
  if v[1] == 0 then return v, string.format('%d', v[2]) end
  return v, string.format('%d%09d', v[1], v[2])
end
local at = ledger_end + 1
for j = 4 + n + e, #KEYS do
  local count, bodies = tonumber(ARGV[at]), {}
  for k = 1, count do
    local condition, body = ARGV[at + 2 * k - 1], ARGV[at + 2 * k]
    if condition == '' then
      bodies[#bodies + 1] = body
    else  -- appended only if the delta's counter ends within [low, high]
      local i, lo, hi = string.match(condition, '^(%d+) (%-?%d+) (%S+)$')
      local v, text = after_of(tonumber(i))
      if not less(v, big(lo)) and (hi == '-' or not less(big(hi), v)) then
        bodies[#bodies + 1] = string.gsub(body, '{value}', text)
      end
    end
  end
  for first = 1, #bodies, 1000 do
    redis.call('RPUSH', KEYS[j], unpack(bodies, first, math.min(first + 999, #bodies)))
  end
  at = at + 1 + 2 * count
end
reply[2] = new
return reply  -- {1, new revision, values...}
