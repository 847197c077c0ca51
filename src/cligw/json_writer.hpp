/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The JSON string writer (no nginx types), serde_json's escaping: the SSE
// events and the error bodies write their strings with it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "cligw/utf8.hpp"

namespace cligw {

// Appends `s` as the contents of a JSON string (no quotes), serde_json style:
// \" \\ \b \f \n \r \t, other controls as \u00xx, invalid UTF-8 -> U+FFFD
// (maximal subparts, like Rust's String::from_utf8_lossy). `out` is
// anything with append(const char *, std::size_t).
template <class Out> void json_append_escaped(Out &out, std::string_view s);

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

// The first byte of the 8 at p that is not plain (needs an escape, or is
// not ASCII), or 8: a word at a time, as programs mostly print long runs
// of plain ASCII. Each test flags its bytes exactly up to the first one it
// flags (a borrow runs only towards higher bytes), so the lowest flag of
// them all is exact.
inline std::size_t first_special_of_8(const char *p)
{
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    std::uint64_t w;

    std::memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);   // the first byte lowest, as borrows need
#endif

    auto zero_byte = [&](std::uint64_t x) { return (x - ones) & ~x & highs; };

    std::uint64_t flags = (w & highs)                       // not ASCII
                          | ((w - ones * 0x20) & ~w & highs) // < 0x20
                          | zero_byte(w ^ (ones * '"'))
                          | zero_byte(w ^ (ones * '\\'));

    if (flags == 0) {
        return 8;
    }

    return static_cast<std::size_t>(__builtin_ctzll(flags)) / 8;
}

// Past the bytes at s[i] that are copied as they are: ASCII that needs
// no escape, valid UTF-8 sequences.
inline std::size_t skip_verbatim(std::string_view s, std::size_t i)
{
    while (i < s.size()) {
        while (i + 8 <= s.size()) {
            std::size_t k = first_special_of_8(s.data() + i);

            i += k;

            if (k < 8) {
                break;
            }
        }

        if (i == s.size()) {
            break;
        }

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

} // namespace detail


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

} // namespace cligw
