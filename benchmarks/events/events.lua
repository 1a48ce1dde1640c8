-- Click events for `python -m benchmarks events`: a new user, document and position per
-- request, as a site's visitors send them. `wrk -tTHREADS ... -- RATE DOCS THREADS [PATH]`
-- sends RATE events a second in all, on a schedule; RATE 0 sends as fast as they are
-- answered. With a PATH (`/version`), it sends `GET PATH` instead, on the same schedule:
-- the control, what any authenticated request at that rate costs (against Typesense too,
-- whose cheap request is another path).
--
-- The schedule is kept per wrk thread (each has its own Lua state, shared by its
-- connections): every request, whichever connection sends it, takes the thread's next
-- slot, THREADS x 1000 / RATE ms after the previous one, and its connection waits until
-- then. Pausing a fixed time after each answer instead (as this script did) made the rate
-- reached connections / (pause + latency): under the target by the answers' latency, so
-- the slower the server the fewer events it was sent. A thread that falls behind its
-- schedule (every connection busy) does not send a burst to catch up: the next slot starts
-- from now, and the rate reached, which wrk reports, says so.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } sift_timespec;
int clock_gettime(int clk_id, sift_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now = ffi.new("sift_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

local n = 0
local period = 0 -- ms between two requests of this thread; 0: no schedule
local due = nil  -- this thread's next slot
local docs = 20000
local control = nil -- the GET path of the control, if any

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

init = function(args)
  local rate = tonumber(args[1]) or 0
  docs = tonumber(args[2]) or docs
  local threads = tonumber(args[3]) or 1
  if args[4] ~= nil and args[4] ~= "events" then
    control = args[4]
  end
  if rate > 0 then
    period = threads * 1000 / rate
  end
  math.randomseed(os.time() + math.random(1000))
  n = math.random(1, docs)
end

request = function()
  if control then
    return wrk.format("GET", control, nil, "")
  end
  n = n + 1
  local body = string.format(
    '{"eventType":"click","eventName":"Search Result Clicked","indexUid":"products",' ..
    '"userId":"visitor-%d","objectId":"%d","position":%d}', n % 997, n % docs, n % 20)
  -- No headers table of its own: wrk.headers (with -H's Authorization) go with it.
  return wrk.format(nil, "/events", nil, body)
end

delay = function()
  if period == 0 then
    return 0
  end
  local t = now_ms()
  if due == nil or due < t then
    due = t
  end
  local wait = due - t -- wrk waits whole milliseconds (it truncates): a slot is sent up to
  due = due + period   -- 1 ms early, but the slots stay `period` apart, so the rate holds
  return wait
end
