-- Read a page of a journal stream, in one step with the trimmed count it is
-- numbered from (so a concurrent trim cannot shift the page).
-- KEYS: the stream's list, the stream's trimmed count.
-- ARGV: after (a sequence), how many entries at most.
-- Returns {first sequence - 1 as text, the bodies ...}.
local base = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = math.max(tonumber(ARGV[1]), base)
local bodies = redis.call('LRANGE', KEYS[1], start - base, start - base + tonumber(ARGV[2]) - 1)
table.insert(bodies, 1, string.format('%d', start))
return bodies
