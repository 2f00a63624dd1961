-- wrk.lua - the wrk script of bench/bench.py and bench/soak.py.
--
-- wrk -s bench/wrk.lua URL -- PATH [IDS_FILE]
--
-- Asks GET PATH over and over; when PATH ends in "/" and IDS_FILE names a
-- file of RequestIds (one a line), each request appends the next id, so
-- that lookups walk the stored records instead of hitting one cached row.
-- At the end it prints one line, "WRK {json}", with the counts and the
-- latency percentiles (microseconds) that the scripts read.

local path, ids, n = "/", {}, 0

function init(args)
   path = args[1] or "/"
   if args[2] then
      for line in io.lines(args[2]) do
         n = n + 1
         ids[n] = line
      end
   end
   -- Each wrk thread starts at its own place in the list.
   idx = math.random(1, math.max(n, 1))
end

function request()
   local p = path
   if n > 0 then
      p = path .. ids[idx]
      idx = idx % n + 1
   end
   return wrk.format("GET", p)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRK {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,' ..
      '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,' ..
      '"max_us":%d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write,
      e.status, e.timeout, latency:percentile(50), latency:percentile(99),
      latency.max))
end
