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

} // namespace detail


template <class Out>
void json_append_escaped(Out &out, std::string_view s)
{
    std::size_t run = 0; // start of bytes not yet copied
    std::size_t i = 0;

    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);

        switch (detail::byte_class[c]) {
        case detail::plain:
            i++;
            continue;

        case detail::escape:
            out.append(s.data() + run, i - run);
            detail::append_escape(out, c);
            run = ++i;
            continue;

        default: {
            std::size_t bad = 0;
            std::size_t len = detail::utf8_sequence(s, i, bad);
            if (len) {
                i += len;
                continue;
            }
            out.append(s.data() + run, i - run);
            detail::put(out, detail::replacement);
            run = i += bad;
        }
        }
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
    detail::put(out, kind == StreamKind::out
                    ? "event: cli\ndata: {\"type\":\"stdout\",\"data\":\""
                    : "event: cli\ndata: {\"type\":\"stderr\",\"data\":\"");
    json_append_escaped(out, line);
    detail::put(out, "\\n\"}\n\n");
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
