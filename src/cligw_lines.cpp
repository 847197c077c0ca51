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

    // Back off to the start of a UTF-8 sequence that would be cut.
    for (std::size_t k = 1; k <= 3 && k < n; k++) {
        auto c = static_cast<unsigned char>(s[n - k]);

        if ((c & 0xC0) == 0x80) {
            continue; // a continuation byte: look further back
        }

        std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return len > k ? n - k : n;
    }

    return n;
}

} // namespace cligw
