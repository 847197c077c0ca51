/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Template part of the SSE encoder (included by cligw_sse.hpp).
#pragma once

#include <array>

#include "cligw_utf8.hpp"

namespace cligw {

namespace detail {

inline constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD

// What a byte needs: copied as is, escaped, or checked as UTF-8.
enum : unsigned char { plain, escape, multibyte };

constexpr std::array<unsigned char, 256> byte_classes()
{
    std::array<unsigned char, 256> t{};
    for (int c = 0; c < 256; c++) {
        t[c] = c < 0x20 || c == '"' || c == '\\' ? escape
               : c < 0x80                        ? plain
                                                 : multibyte;
    }
    return t;
}

inline constexpr std::array<unsigned char, 256> byte_class = byte_classes();

template <class Out>
inline void put(Out &out, std::string_view s)
{
    out.append(s.data(), s.size());
}

template <class Out>
void append_escape(Out &out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '"':  put(out, "\\\""); break;
    case '\\': put(out, "\\\\"); break;
    case '\b': put(out, "\\b"); break;
    case '\f': put(out, "\\f"); break;
    case '\n': put(out, "\\n"); break;
    case '\r': put(out, "\\r"); break;
    case '\t': put(out, "\\t"); break;
    default: {
        const char u[] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };
        out.append(u, sizeof(u));
    }
    }
}

// Length of the valid UTF-8 sequence at s[i], or 0 with `bad` set to the
// length of its maximal subpart (the bytes one U+FFFD stands for).
inline std::size_t utf8_sequence(std::string_view s, std::size_t i,
                                 std::size_t &bad)
{
    Utf8Lead lead = utf8_lead(static_cast<unsigned char>(s[i]));

    if (lead.len == 0) {
        bad = 1;                        // continuation, C0, C1, F5..FF
        return 0;
    }

    for (std::size_t k = 1; k < lead.len; k++) {
        if (i + k >= s.size()) {
            bad = k;
            return 0;
        }
        auto b = static_cast<unsigned char>(s[i + k]);
        if (k == 1 ? (b < lead.lo || b > lead.hi) : (b & 0xC0) != 0x80) {
            bad = k;
            return 0;
        }
    }

    return lead.len;
}

template <class Out>
void append_event(Out &out, std::string_view json)
{
    put(out, "event: cli\ndata: ");
    put(out, json);
    put(out, "\n\n");
}

// Past the bytes at s[i] that are copied as they are: ASCII that needs
// no escape, valid UTF-8 sequences.
inline std::size_t skip_verbatim(std::string_view s, std::size_t i)
{
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);

        if (byte_class[c] == plain) {
            i++;
            continue;
        }

        std::size_t bad;
        std::size_t len = byte_class[c] == multibyte ? utf8_sequence(s, i, bad)
                                                     : 0;
        if (len == 0) {
            return i;
        }
        i += len;
    }

    return i;
}

// Escapes s[i], which skip_verbatim() stopped at; returns the index after
// what it consumed (an invalid sequence's maximal subpart is one U+FFFD).
template <class Out>
std::size_t append_special(Out &out, std::string_view s, std::size_t i)
{
    auto c = static_cast<unsigned char>(s[i]);

    if (byte_class[c] == escape) {
        append_escape(out, c);
        return i + 1;
    }

    std::size_t bad = 0;
    utf8_sequence(s, i, bad);
    put(out, replacement);
    return i + bad;
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
void json_append_escaped(Out &out, std::string_view s)
{
    std::size_t run = 0; // start of bytes not yet copied
    std::size_t i = 0;

    for (;;) {
        i = detail::skip_verbatim(s, i);

        if (i == s.size()) {
            break;
        }

        out.append(s.data() + run, i - run);
        run = i = detail::append_special(out, s, i);
    }

    out.append(s.data() + run, s.size() - run);
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
