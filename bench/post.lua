-- Copyright (C) 2026 Seed 79e7e746 maintainers

-- wrk script: POST one gateway run per request.
-- usage: wrk -s bench/post.lua URL -- '["seq","1","10"]'  (args as JSON)
local args = '["-c", "seq 1 10"]'
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(argv)
    if #argv > 0 then
        args = argv[1]
    end
    bad = 0
end

function request()
    return wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["X-Role"] = "admin",
        ["Authorization"] = "Bearer demo-admin-token",
    }, '{"args": ' .. args .. '}')
end

function response(status, headers, body)
    if status ~= 200 or not body:find('"type":"exit_code","code":0}', 1, true) then
        bad = bad + 1
    end
end

-- each thread counts in its own Lua state: add them up here
function done(summary, latency, requests)
    local total = 0
    for _, thread in ipairs(threads) do
        total = total + thread:get("bad")
    end
    io.write(string.format("runs/s %.0f  p50 %.2f ms  p99 %.2f ms  bad %d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, total))
end
