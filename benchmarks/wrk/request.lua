-- wrk script for benchmarks/serving.sh: one fixed request, optionally paced, and a JSON summary.
--
-- Environment:
--   WRK_METHOD    GET or POST (default GET)
--   WRK_BODY      file whose bytes are the request body (optional)
--   WRK_HEADERS   request headers, one "Name: value" per line (optional)
--   WRK_DELAY_MS  mean pause in ms between a response and the next request on the same connection (optional):
--                 each pause is drawn uniformly from [0, 2 * WRK_DELAY_MS] and rounded to whole ms (wrk's timer
--                 resolution), so connections do not fire in step. With C connections the offered rate is about
--                 C * 1000 / (WRK_DELAY_MS + latency) requests a second: closed-loop pacing, not wrk2's open loop.
--   WRK_OUT       file that receives the JSON summary (default: printed)

wrk.method = os.getenv("WRK_METHOD") or "GET"
local body_file = os.getenv("WRK_BODY")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
end
local header_text = os.getenv("WRK_HEADERS") or ""
for line in header_text:gmatch("[^\n]+") do
  local name, value = line:match("^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  function init(args)
    math.randomseed(os.time() + math.floor(os.clock() * 1e6) + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
  end
  function delay()
    return math.floor(math.random() * 2 * delay_ms + 0.5)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, ' ..
    '"latency_us": {"mean": %.2f, "stdev": %.2f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}}',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9))
  local path = os.getenv("WRK_OUT")
  if path and path ~= "" then
    local f = assert(io.open(path, "w"))
    f:write(out, "\n")
    f:close()
  else
    print(out)
  end
end
