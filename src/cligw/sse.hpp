/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Server-Sent Events framing of the gateway's `cli` events (no nginx types).
//
// Byte-compatible with systemprompt-api (serde_json + axum Sse):
//   event: cli\ndata: {"type":"stdout","data":"line\n"}\n\n
//
// Every function appends to `out`, anything with
// append(const char *, std::size_t): a std::string, or the stream's
// BlockWriter (cligw/blocks.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cligw {

enum class StreamKind { out, err };

inline constexpr std::string_view sse_keepalive_frame = ":\n\n";

// Appends one complete event to `out`.
template <class Out> void sse_append_started(Out &out, long pid);
// `line` excludes the newline; "\n" is appended inside the JSON string.
// Invalid UTF-8 is replaced by U+FFFD (maximal subparts, like Rust's
// String::from_utf8_lossy); JSON escaping follows serde_json.
template <class Out>
void sse_append_line(Out &out, StreamKind kind, std::string_view line);
// One event per line of `lines`, which holds whole lines only: it ends in
// "\n", and a "\r" right before a "\n" is dropped. The same bytes as
// sse_append_line for each line, in one pass that finds the line ends
// while it escapes.
template <class Out>
void sse_append_lines(Out &out, StreamKind kind, std::string_view lines);
template <class Out> void sse_append_error(Out &out, std::string_view message);
template <class Out> void sse_append_exit_code(Out &out, int code);

// Runs kept in a zone (cli_gateway_runs): `started` names the run, and
// every event is numbered (EventIds); a reattach that missed bytes no
// longer kept is told how many, its id where the kept log starts.
template <class Out>
void sse_append_started(Out &out, long pid, std::string_view run_id);
template <class Out>
void sse_append_gap(Out &out, std::uint64_t lost, std::uint64_t id);

inline std::size_t hex_digits(std::uint64_t n)
{
    return n == 0 ? 1 : (67 - static_cast<std::size_t>(__builtin_clzll(n))) / 4;
}

// An Out whose events get an `id:` line after their data line: in hex, the
// offset in the run's event log just after the event (its id line and
// blank line included), so that `Last-Event-ID: N` means "from byte N".
// offset is where the log stands before the first byte appended here. Hex,
// not decimal: an id per event is written at the rate of the output, and
// hex needs no division (and is shorter).
template <class Out>
class EventIds {
public:
    EventIds(Out &out, std::uint64_t offset) : out_(out), offset_(offset) {}

    // inlined into the encoder's loop even where nginx builds with -O
    __attribute__((always_inline)) void append(const char *p, std::size_t n)
    {
        out_.append(p, n);
        offset_ += n;
    }

    // tail: the rest of the event's data line (at most 16 bytes), then
    // the id line and the blank line
    __attribute__((always_inline)) inline void end_event(std::string_view tail);

    std::uint64_t offset() const { return offset_; }

private:
    Out           &out_;
    std::uint64_t  offset_;
};

} // namespace cligw

#include "cligw/sse_impl.hpp"
