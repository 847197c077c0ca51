/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Template part of the SSE encoder (included by cligw/sse.hpp).
#pragma once

#include <string>

#include "cligw/json_writer.hpp"

namespace cligw {

namespace detail {

template <class Out>
void append_event(Out &out, std::string_view json)
{
    put(out, "event: cli\ndata: ");
    put(out, json);
    put(out, "\n\n");
}

inline std::string_view line_event_head(StreamKind kind)
{
    return kind == StreamKind::out
               ? "event: cli\ndata: {\"type\":\"stdout\",\"data\":\""
               : "event: cli\ndata: {\"type\":\"stderr\",\"data\":\"";
}

inline constexpr std::string_view line_event_tail = "\\n\"}\n\n";

} // namespace detail


template <class Out>
void sse_append_lines(Out &out, StreamKind kind, std::string_view s)
{
    const std::string_view head = detail::line_event_head(kind);
    std::size_t run = 0; // start of bytes not yet copied
    std::size_t i = 0;

    if (s.empty()) {
        return;
    }

    detail::put(out, head);

    for (;;) {
        i = detail::skip_verbatim(s, i);

        if (i == s.size()) {
            break;
        }

        auto c = static_cast<unsigned char>(s[i]);

        // s ends in "\n": a "\r" always has a byte after it
        std::size_t end = c == '\n'                      ? 1
                          : c == '\r' && s[i + 1] == '\n' ? 2
                                                          : 0;

        out.append(s.data() + run, i - run);

        if (end == 0) {
            run = i = detail::append_special(out, s, i);
            continue;
        }

        detail::put(out, detail::line_event_tail);
        run = i += end;

        if (i < s.size()) {
            detail::put(out, head);
        }
    }
}


template <class Out>
void sse_append_started(Out &out, long pid)
{
    detail::append_event(out, "{\"type\":\"started\",\"pid\":"
                                  + std::to_string(pid) + "}");
}

template <class Out>
void sse_append_line(Out &out, StreamKind kind, std::string_view line)
{
    detail::put(out, detail::line_event_head(kind));
    json_append_escaped(out, line);
    detail::put(out, detail::line_event_tail);
}

template <class Out>
void sse_append_error(Out &out, std::string_view message)
{
    detail::put(out, "event: cli\ndata: {\"type\":\"error\",\"message\":\"");
    json_append_escaped(out, message);
    detail::put(out, "\"}\n\n");
}

template <class Out>
void sse_append_exit_code(Out &out, int code)
{
    detail::append_event(out, "{\"type\":\"exit_code\",\"code\":"
                                  + std::to_string(code) + "}");
}

} // namespace cligw
