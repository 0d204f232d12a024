-- wrk's end-of-run report as one JSON line, read by bench/http.py and
-- bench/scale.py (appended to each scenario's script)
done = function(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format(
    "BENCH {\"requests\": %d, \"seconds\": %.3f, \"rps\": %.1f, \"p50_ms\": %.3f, " ..
    "\"p90_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"non2xx\": %d, " ..
    "\"socket_errors\": %d}\n",
    summary.requests, s, summary.requests / s,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
