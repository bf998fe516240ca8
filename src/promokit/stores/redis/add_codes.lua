-- Adding coupon codes, all or nothing, even for imports of 100,000 codes.
--
-- Codes are only ever added, never changed or removed, so what a reader saw
-- registered stays registered. add_codes therefore works in two steps:
--
-- 1. Read-only, in chunks (HMGET, pipelined, no lock, nothing blocks): a code
--    registered to another batch is a conflict and ends the call, with nothing
--    written; codes of the same batch are "existing" for good. What is left are
--    the codes that were not registered when we looked.
-- 2. One script with those codes: it looks at them again (another import may have
--    registered some since step 1) and, if none now belongs to another batch,
--    adds every one still missing; otherwise it adds nothing and returns the new
--    conflicts. Redis runs a script alone, so step 2 is atomic, and the codes
--    step 1 let through cannot have changed except by being added.
--
-- The write is thus one atomic step and all or nothing: no reader ever sees part
-- of an import, and a failure leaves no part behind. The price is that step 2 runs
-- in one piece: about 0.1 s per 100,000 new codes, during which Redis serves no one
-- else. Chunking the writes instead would let readers see (and customers redeem) a
-- half-done import that a later conflict could not take back.

-- KEYS: codes hash. ARGV: batch, the value to store, then the codes to add.
local batch, value = ARGV[1], ARGV[2]
local fresh, conflicts, existing = {}, {}, 0
for first = 3, #ARGV, 1000 do
  local last = math.min(first + 999, #ARGV)
  local got = redis.call('HMGET', KEYS[1], unpack(ARGV, first, last))
  for i = 1, #got do
    local code, stored = ARGV[first + i - 1], got[i]
    if not stored then
      fresh[#fresh + 1] = code
    elseif string.sub(stored, (string.find(stored, ':', 1, true) or 0) + 1) == batch then
      existing = existing + 1
    else
      conflicts[#conflicts + 1] = code
    end
  end
end
if #conflicts > 0 then return {0, existing, conflicts} end
for first = 1, #fresh, 500 do
  local pairs = {}
  for i = first, math.min(first + 499, #fresh) do
    pairs[#pairs + 1] = fresh[i]
    pairs[#pairs + 1] = value
  end
  redis.call('HSET', KEYS[1], unpack(pairs))
end
return {#fresh, existing}
