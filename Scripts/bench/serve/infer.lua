-- wrk script: POST one 64-feature V2 infer request per call; counts non-2xx as errors.
local data = {}
for i = 1, 64 do data[i] = tostring((i * 7 % 17) / 4) end
wrk.method = "POST"
wrk.path = "/v2/models/digits/infer"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id":"bench","inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","data":[' .. table.concat(data, ",") .. ']}]}'

local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.3f p99_ms=%.3f errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
