-- wrk script: a mixed workload over one connection pool. Each request is drawn by weight from
-- health probes, metrics scrapes, small synchronous simulations, async submissions (when SUBMIT_PCT > 0)
-- and status polls of known jobs. Every status code is counted; done() prints one JSON line.
local small = assert(io.open(os.getenv("BODY"), "rb")):read("*a")
local jobs = {}
for id in string.gmatch(os.getenv("JOBS") or "", "[^,]+") do jobs[#jobs + 1] = id end
local submit = tonumber(os.getenv("SUBMIT_PCT") or "0")
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  codes = {}
  picks = 0
end

local json = { ["Content-Type"] = "application/json" }

function request()
  picks = picks + 1
  local r = math.random(100)
  if r <= 35 then
    return wrk.format("GET", "/health/live")
  elseif r <= 40 then
    return wrk.format("GET", "/metrics")
  elseif r <= 45 then
    return wrk.format("GET", "/health/ready")
  elseif r <= 70 then
    return wrk.format("POST", "/api/v2/abm/simulate-sync", json, small)
  elseif r <= 70 + submit then
    return wrk.format("POST", "/api/v2/abm/simulate", json, small)
  elseif #jobs > 0 then
    return wrk.format("GET", "/api/v2/abm/jobs/" .. jobs[math.random(#jobs)] .. "/status")
  else
    return wrk.format("GET", "/api/v2/abm/queue/stats")
  end
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    for k, v in pairs(c) do all[k] = (all[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(all) do parts[#parts + 1] = string.format('"%d":%d', k, v) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"rps":%.1f,"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"socket_errors":%d,"codes":{%s}}\n',
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors, table.concat(parts, ",")))
end
