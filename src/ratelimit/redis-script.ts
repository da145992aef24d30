/**
 * One decision in one round trip: every limit of the request is read, checked and (when all admit)
 * written inside one Lua script, which Redis runs atomically, so several gateways hammering the same
 * key can never both take the last request. The arithmetic is algorithms.ts line by line; a test runs
 * both on the same sequences.
 *
 * KEYS[i]: one per limit (they share a hash tag, so Redis Cluster finds them in one slot).
 * ARGV[1]: now in ms (the caller's clock: see docs/policies/rate-limit.md on clock skew).
 * ARGV[2 + 4(i-1) ...]: algorithm (1 gcra, 2 sliding-window), limit, window ms, burst.
 * Returns { allowed, remaining1, reset1, retry1, remaining2, ... } as integers.
 *
 * Values are written with string.format: Redis turns a Lua number passed to a command into text
 * with 14 significant digits, which would round a millisecond timestamp with a fraction.
 */
export const DECIDE_SCRIPT = `
local now = tonumber(ARGV[1])
local eps = 0.000001
local n = #KEYS
local out = {1}
local writes = {}
for i = 1, n do
  local b = 1 + (i - 1) * 4
  local algo = tonumber(ARGV[b + 1])
  local limit = tonumber(ARGV[b + 2])
  local window = tonumber(ARGV[b + 3])
  local burst = tonumber(ARGV[b + 4])
  local raw = redis.call('GET', KEYS[i])
  local ok, remaining, reset, retry, value, ttl = 0, 0, 0, 0, nil, 0
  if algo == 1 then
    local interval = window / limit
    local capacity = burst * interval
    local tat = now
    if raw then
      local stored = tonumber(raw)
      if stored and stored > now then tat = stored end
    end
    local nxt = tat + interval
    local wait = nxt - now
    if wait <= capacity + eps then
      ok = 1
      remaining = math.floor((capacity - wait) / interval + eps)
      reset = math.ceil(wait)
      value = string.format('%.3f', nxt)
      ttl = math.max(1, math.ceil(wait))
    else
      reset = math.ceil(tat - now)
      retry = math.max(1, math.ceil(wait - capacity))
    end
  else
    local start = math.floor(now / window) * window
    local previous, current = 0, 0
    if raw then
      local s, p, c = string.match(raw, '^([^:]+):([^:]+):([^:]+)$')
      s = tonumber(s)
      if s == start then
        previous = tonumber(p); current = tonumber(c)
      elseif s == start - window then
        previous = tonumber(c)
      end
    end
    local elapsed = now - start
    local estimate = previous * (window - elapsed) / window + current
    reset = math.max(1, math.ceil(window - elapsed))
    if estimate + 1 <= limit + eps then
      ok = 1
      remaining = math.max(0, math.floor(limit - estimate - 1 + eps))
      value = string.format('%.0f:%d:%d', start, previous, current + 1)
      ttl = math.ceil(2 * window - elapsed)
    elseif current + 1 <= limit and previous > 0 then
      retry = math.max(1, math.ceil(window * (1 - (limit - 1 - current) / previous) - elapsed - eps))
    else
      local into = 0
      if current > 0 then into = math.max(0, window * (1 - (limit - 1) / current)) end
      retry = math.max(1, math.ceil(window - elapsed + into - eps))
    end
  end
  if ok == 0 then out[1] = 0 end
  out[#out + 1] = remaining
  out[#out + 1] = reset
  out[#out + 1] = retry
  writes[i] = { value, ttl }
end
if out[1] == 1 then
  for i = 1, n do
    redis.call('SET', KEYS[i], writes[i][1], 'PX', writes[i][2])
  end
end
return out`;
