/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// What a UTF-8 lead byte announces (no nginx types): shared by the SSE
// encoder's lossy decoding and the line splitter's cuts.
#pragma once

#include <cstddef>

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

} // namespace cligw
