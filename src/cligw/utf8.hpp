/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// What a UTF-8 lead byte announces (no nginx types): shared by the SSE
// encoder's lossy decoding, the line splitter's cuts and the JSON reader.
#pragma once

#include <cstddef>
#include <string_view>

namespace cligw {

struct Utf8Lead {
    std::size_t    len;       // bytes of the sequence; 0: not a lead byte
    unsigned char  lo, hi;    // the range the second byte must be in
};

// Continuation bytes, C0, C1 and F5..FF lead nothing (len 0).
constexpr Utf8Lead utf8_lead(unsigned char c)
{
    Utf8Lead lead = { 0, 0x80, 0xBF };

    if (c >= 0xC2 && c <= 0xDF) {
        lead.len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        lead.len = 3;
        if (c == 0xE0) lead.lo = 0xA0;  // no overlongs
        if (c == 0xED) lead.hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        lead.len = 4;
        if (c == 0xF0) lead.lo = 0x90;  // no overlongs
        if (c == 0xF4) lead.hi = 0x8F;  // nothing above U+10FFFF
    }

    return lead;
}

// True when every byte of `s` belongs to a well-formed UTF-8 sequence.
inline bool utf8_valid(std::string_view s)
{
    std::size_t i = 0;

    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            i++;
            continue;
        }

        Utf8Lead lead = utf8_lead(c);
        if (lead.len == 0 || s.size() - i < lead.len) {
            return false;
        }
        auto b = static_cast<unsigned char>(s[i + 1]);
        if (b < lead.lo || b > lead.hi) {
            return false;
        }
        for (std::size_t k = 2; k < lead.len; k++) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += lead.len;
    }

    return true;
}

} // namespace cligw
