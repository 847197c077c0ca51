/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Template part of the SSE encoder (included by cligw/sse.hpp).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

#include "cligw/json_writer.hpp"

namespace cligw {

namespace detail {

// Whether Out has append_small() (a fixed-size copy, see BlockWriter).
template <class Out, class = void>
struct appends_small : std::false_type {};

template <class Out>
struct appends_small<Out, std::void_t<decltype(std::declval<Out &>()
                                                   .append_small(nullptr, 0))>>
    : std::true_type {};

// Whether Out numbers its events (has end_event(tail), see EventIds).
template <class Out, class = void>
struct numbers_events : std::false_type {};

template <class Out>
struct numbers_events<Out, std::void_t<decltype(std::declval<Out &>()
                                                    .end_event(std::string_view()))>>
    : std::true_type {};

// The end of an event: `tail` ends its data line and has the blank line
// after it ("...\n\n"); an Out that numbers events puts its id line
// between the two.
template <class Out>
__attribute__((always_inline)) inline void end_event(Out &out,
                                                     std::string_view tail)
{
    if constexpr (numbers_events<Out>::value) {
        out.end_event(tail.substr(0, tail.size() - 1));
    } else {
        put(out, tail);
    }
}

template <class Out>
void append_event(Out &out, std::string_view json)
{
    put(out, "event: cli\ndata: ");
    put(out, json);
    end_event(out, "\n\n");
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

        detail::end_event(out, detail::line_event_tail);
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
    detail::end_event(out, detail::line_event_tail);
}

template <class Out>
void sse_append_error(Out &out, std::string_view message)
{
    detail::put(out, "event: cli\ndata: {\"type\":\"error\",\"message\":\"");
    json_append_escaped(out, message);
    detail::end_event(out, "\"}\n\n");
}

template <class Out>
void sse_append_started(Out &out, long pid, std::string_view run_id)
{
    std::string json = "{\"type\":\"started\",\"pid\":" + std::to_string(pid)
                       + ",\"run_id\":\"";
    json_append_escaped(json, run_id);
    json += "\"}";
    detail::append_event(out, json);
}

template <class Out>
void sse_append_gap(Out &out, std::uint64_t lost, std::uint64_t id)
{
    char hex[17];
    int n = std::snprintf(hex, sizeof(hex), "%llx",
                          static_cast<unsigned long long>(id));

    detail::put(out, "event: cli\ndata: {\"type\":\"gap\",\"lost_bytes\":"
                     + std::to_string(lost) + "}\nid: "
                     + std::string(hex, static_cast<std::size_t>(n)) + "\n\n");
}


template <class Out>
void EventIds<Out>::end_event(std::string_view tail)
{
    static const char hex[] = "0123456789abcdef";

    // the id is the offset after the event, its own id line included
    std::uint64_t base = offset_ + tail.size() + sizeof("id: \n\n") - 1;
    std::size_t digits = hex_digits(base);
    std::uint64_t id = base + digits;

    if (hex_digits(id) > digits) {
        id++;
        digits++;
    }

    // the data line's end and the id line, in one append
    char line[48];
    std::size_t n = tail.size() + 4 + digits;
    std::size_t k = 0;

    for (char c : tail) {
        line[k++] = c;
    }

    std::memcpy(line + k, "id: ", 4);

    for (std::size_t i = n; i > k + 4; id >>= 4) {
        line[--i] = hex[id & 0xf];
    }

    line[n++] = '\n';
    line[n++] = '\n';

    if constexpr (detail::appends_small<Out>::value) {
        out_.append_small(line, n);
        offset_ += n;
    } else {
        append(line, n);
    }
}

template <class Out>
void sse_append_exit_code(Out &out, int code)
{
    detail::append_event(out, "{\"type\":\"exit_code\",\"code\":"
                                  + std::to_string(code) + "}");
}

} // namespace cligw
