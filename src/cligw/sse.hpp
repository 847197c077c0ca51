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

} // namespace cligw

#include "cligw/sse_impl.hpp"
