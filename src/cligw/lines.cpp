/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// LineSplitter: the parts that are not templates.

#include "cligw/lines.hpp"
#include "cligw/utf8.hpp"

namespace cligw {

LineSplitter::LineSplitter(std::size_t max_line)
    : max_line_(max_line < 4 ? 4 : max_line)
{
}

void LineSplitter::release_memory()
{
    if (pending_.empty()) {
        std::string().swap(pending_);
    }
}

std::size_t LineSplitter::piece_length(std::string_view s) const
{
    std::size_t n = max_line_;

    // Back off (at most 3 bytes) to the start of a sequence that the cut
    // would split, but only if what precedes the cut is a valid beginning
    // of one: bytes that are not UTF-8 anyway may be cut anywhere, which
    // gives the same U+FFFD as the whole line would (maximal subparts).
    for (std::size_t k = 1; k <= 3 && k < n; k++) {
        auto c = static_cast<unsigned char>(s[n - k]);

        if ((c & 0xC0) == 0x80) {
            continue; // a continuation byte: look further back
        }

        Utf8Lead lead = utf8_lead(c);

        if (lead.len <= k) {
            return n; // ASCII, a sequence that ends before the cut, garbage
        }
        if (k > 1) {
            auto b = static_cast<unsigned char>(s[n - k + 1]);
            if (b < lead.lo || b > lead.hi) {
                return n; // not a valid prefix
            }
        }
        return n - k;
    }

    return n;
}

} // namespace cligw
