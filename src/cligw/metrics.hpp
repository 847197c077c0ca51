/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The gateway's metrics as text: the Prometheus exposition format and JSON
// (no nginx types). The glue reads the shared counters into a Metrics.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cligw {

// Refusals before a run, by the ApiError code; every one is a series from
// the start, at 0.
inline constexpr std::array<std::string_view, 11> refusal_reasons = {
    "forbidden", "unauthorized", "method_not_allowed",
    "unsupported_media_type", "bad_request", "validation_error",
    "payload_too_large", "rate_limited", "service_unavailable", "not_found",
    "conflict",
};

// How runs end; ngx_http_cli_gateway_exit_kind_e has the same order.
inline constexpr std::array<std::string_view, 10> exit_kinds = {
    "exited", "failed", "signaled", "timeout", "cancelled", "client_gone",
    "output_limit", "detach_timeout", "spawn_failed", "worker_exit",
};

inline constexpr std::size_t exit_timeout = 3;
inline constexpr std::size_t exit_cancelled = 4;

static_assert(exit_kinds[exit_timeout] == "timeout");
static_assert(exit_kinds[exit_cancelled] == "cancelled");

// The index of code in refusal_reasons; refusal_reasons.size() for a code
// that is not there.
std::size_t refusal_index(std::string_view code);

struct Metrics {
    std::uint64_t runs_started = 0;
    std::int64_t runs_running = 0;   // gauges: a bug shows as negative
    std::int64_t runs_detached = 0;
    std::array<std::uint64_t, refusal_reasons.size()> refused{};
    std::array<std::uint64_t, exit_kinds.size()> exited{};
    std::uint64_t output_bytes = 0;
    std::uint64_t events_bytes = 0;
};

// # HELP, # TYPE and the samples of every metric, cli_gateway_*; the
// timeouts and cancels are the exits of those kinds.
std::string metrics_prometheus(const Metrics &m);

// {"runs_started":N,"runs_running":N,"runs_detached":N,
//  "requests_refused":{"forbidden":N,...},"runs_exited":{"exited":N,...},
//  "timeouts":N,"cancelled":N,"output_bytes":N,"events_bytes":N}
std::string metrics_json(const Metrics &m);

} // namespace cligw
