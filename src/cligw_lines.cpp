// LineSplitter: the parts that are not templates.

#include "cligw_lines.hpp"

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

        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF; // range of the second byte

        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0; // no overlongs
            if (c == 0xED) hi = 0x9F; // no surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90; // no overlongs
            if (c == 0xF4) hi = 0x8F; // nothing above U+10FFFF
        }

        if (len <= k) {
            return n; // ASCII, a sequence that ends before the cut, garbage
        }
        if (k > 1) {
            auto b = static_cast<unsigned char>(s[n - k + 1]);
            if (b < lo || b > hi) {
                return n; // not a valid prefix
            }
        }
        return n - k;
    }

    return n;
}

} // namespace cligw
