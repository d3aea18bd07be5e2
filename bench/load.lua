-- wrk script of bench/rest.py: every request carries BENCH_TOKEN (and BENCH_BODY, as JSON,
-- when set); with BENCH_ID_COUNT > 0 the path's "_ID_" cycles through BENCH_FIRST_ID ..
-- + BENCH_ID_COUNT - 1, threads interleaved, so each POST of a run writes another instance.
local token = os.getenv("BENCH_TOKEN")
local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
local first = tonumber(os.getenv("BENCH_FIRST_ID") or "0")
local count = tonumber(os.getenv("BENCH_ID_COUNT") or "0")
local stride = tonumber(os.getenv("BENCH_THREADS") or "1")
local made = 0

function setup(thread)
  thread:set("offset", made)
  made = made + 1
end

function init(args)
  n = 0
  wrk.method = method
  wrk.headers["Authorization"] = "Bearer " .. token
  if body ~= "" then
    wrk.body = body
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  local path = wrk.path
  if count > 0 then
    local id = first + (offset + n * stride) % count
    path = string.gsub(path, "_ID_", tostring(id))
  end
  n = n + 1
  return wrk.format(nil, path)
end
