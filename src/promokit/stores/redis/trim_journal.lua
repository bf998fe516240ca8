-- Delete a journal stream's entries with sequence <= ARGV[1], in one step.
-- KEYS: the stream's list, the stream's trimmed count (how many entries were
--       deleted from its head so far: an entry's sequence is that count plus its
--       list index plus 1, so trimming never renumbers, and later RPUSHes keep
--       counting on even when the list is left empty and Redis deletes it).
-- ARGV: through.
-- Returns how many entries were deleted.
local base = tonumber(redis.call('GET', KEYS[2]) or '0')
local count = math.min(math.max(tonumber(ARGV[1]) - base, 0), redis.call('LLEN', KEYS[1]))
if count > 0 then
  redis.call('LTRIM', KEYS[1], count, -1)
  redis.call('INCRBY', KEYS[2], count)
end
return count
