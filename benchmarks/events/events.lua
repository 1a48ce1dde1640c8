-- Click events for `python -m benchmarks events`: a new user, document and position per
-- request, as a site's visitors send them. `wrk ... -- DELAY_MS` paces each connection
-- (connections x 1000 / DELAY_MS events per second in all); 0 sends as fast as answered.
local n = 0
local pause = 0
local docs = 20000

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

init = function(args)
  pause = tonumber(args[1]) or 0
  docs = tonumber(args[2]) or docs
  math.randomseed(os.time() + math.random(1000))
  n = math.random(1, docs)
end

request = function()
  n = n + 1
  local body = string.format(
    '{"eventType":"click","eventName":"Search Result Clicked","indexUid":"products",' ..
    '"userId":"visitor-%d","objectId":"%d","position":%d}', n % 997, n % docs, n % 20)
  -- No headers table of its own: wrk.headers (with -H's Authorization) go with it.
  return wrk.format(nil, "/events", nil, body)
end

delay = function()
  return pause
end
