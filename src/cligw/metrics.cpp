/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The metrics in Prometheus' text exposition format (0.0.4) and in JSON.

#include "cligw/metrics.hpp"

namespace cligw {

namespace {

// One metric of the text format: its HELP and TYPE lines.
void head(std::string &out, std::string_view name, std::string_view type,
          std::string_view help)
{
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// A metric of one sample.
template <class T>
void scalar(std::string &out, std::string_view name, std::string_view type,
            std::string_view help, T value)
{
    head(out, name, type, help);
    out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

// name{label="value"} N for each value; the values need no escaping.
template <std::size_t N>
void samples(std::string &out, std::string_view name, std::string_view label,
             const std::array<std::string_view, N> &values,
             const std::array<std::uint64_t, N> &counts)
{
    for (std::size_t i = 0; i < N; i++) {
        out.append(name).append("{").append(label).append("=\"")
           .append(values[i]).append("\"} ")
           .append(std::to_string(counts[i])).append("\n");
    }
}

template <class T>
void member(std::string &out, std::string_view name, T value)
{
    out.append("\"").append(name).append("\":")
       .append(std::to_string(value));
}

template <std::size_t N>
void object(std::string &out, std::string_view name,
            const std::array<std::string_view, N> &names,
            const std::array<std::uint64_t, N> &counts)
{
    out.append("\"").append(name).append("\":{");

    for (std::size_t i = 0; i < N; i++) {
        if (i) {
            out += ',';
        }
        member(out, names[i], counts[i]);
    }

    out += '}';
}

} // namespace

std::size_t refusal_index(std::string_view code)
{
    std::size_t i = 0;

    while (i < refusal_reasons.size() && refusal_reasons[i] != code) {
        i++;
    }

    return i;
}

std::string metrics_prometheus(const Metrics &m)
{
    std::string out;

    out.reserve(4096);

    scalar(out, "cli_gateway_runs_started_total", "counter",
           "Programs started.", m.runs_started);
    scalar(out, "cli_gateway_runs_running", "gauge",
           "Programs running now, in all workers.", m.runs_running);
    scalar(out, "cli_gateway_runs_detached", "gauge",
           "Runs going on without a client.", m.runs_detached);

    head(out, "cli_gateway_requests_refused_total", "counter",
         "Requests refused before a run, by the error code.");
    samples(out, "cli_gateway_requests_refused_total", "reason",
            refusal_reasons, m.refused);

    head(out, "cli_gateway_runs_exited_total", "counter",
         "Runs ended, by how they ended.");
    samples(out, "cli_gateway_runs_exited_total", "kind", exit_kinds,
            m.exited);

    scalar(out, "cli_gateway_runs_timeouts_total", "counter",
           "Runs stopped by their timeout.", m.exited[exit_timeout]);
    scalar(out, "cli_gateway_runs_cancelled_total", "counter",
           "Runs cancelled.", m.exited[exit_cancelled]);
    scalar(out, "cli_gateway_output_bytes_total", "counter",
           "Bytes of program output read.", m.output_bytes);
    scalar(out, "cli_gateway_events_bytes_total", "counter",
           "Bytes of server-sent events handed to clients.", m.events_bytes);

    return out;
}

std::string metrics_json(const Metrics &m)
{
    std::string out = "{";

    member(out, "runs_started", m.runs_started);
    out += ',';
    member(out, "runs_running", m.runs_running);
    out += ',';
    member(out, "runs_detached", m.runs_detached);
    out += ',';
    object(out, "requests_refused", refusal_reasons, m.refused);
    out += ',';
    object(out, "runs_exited", exit_kinds, m.exited);
    out += ',';
    member(out, "timeouts", m.exited[exit_timeout]);
    out += ',';
    member(out, "cancelled", m.exited[exit_cancelled]);
    out += ',';
    member(out, "output_bytes", m.output_bytes);
    out += ',';
    member(out, "events_bytes", m.events_bytes);
    out += '}';

    return out;
}

} // namespace cligw
