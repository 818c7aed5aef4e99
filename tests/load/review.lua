-- wrk script for scripts/loadtest.sh: reviewers reading the hit page API
-- (GET /api/hits/HIT) and, every tenth request, recording a decision on
-- TARGET. Counts the decisions acknowledged (201) and any other non-200.
-- Arguments (after --): HIT TARGET.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  hit = args[1]
  target = args[2]
  counter = 0
  created = 0
  errors = 0
end

function request()
  counter = counter + 1
  if counter % 10 == 0 then
    return wrk.format("POST", "/api/hits/" .. target .. "/decisions", {["Content-Type"] = "application/json"},
      '{"decision": "inconclusive", "examiner": "load tester", "note": "request ' .. counter .. '"}')
  end
  return wrk.format("GET", "/api/hits/" .. hit)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status ~= 200 then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local c, e = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    e = e + t:get("errors")
  end
  local s = summary.duration / 1e6
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "LOAD requests=%d duration_s=%.2f requests_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f " ..
    "non_2xx=%d socket_errors=%d decisions_acknowledged=%d\n",
    summary.requests, s, summary.requests / s, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e, socket, c))
end
