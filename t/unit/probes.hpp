/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// What the tests observe inside the nginx-free parts, through the friend
// declarations those classes make for them; and bounds the tests check.
#pragma once

#include <cstddef>

#include "cligw/blocks.hpp"
#include "cligw/lines.hpp"

namespace cligw {

struct BlockPoolProbe {
    // returned blocks kept for reuse
    static std::size_t kept(const BlockPool &pool) { return pool.kept_.size(); }
};

struct LineSplitterProbe {
    // bytes of the unfinished line held between feeds
    static std::size_t pending(const LineSplitter &s) { return s.pending_.size(); }
};

// Upper bound of the bytes sse_append_line adds for a line of `len` bytes:
// "\u00xx" is the longest escape; U+FFFD (3 bytes) replaces >= 1 byte.
inline std::size_t sse_line_size_bound(std::size_t len)
{
    return 6 * len + sizeof("event: cli\ndata: {\"type\":\"stdout\",\"data\":\"")
           + sizeof("\\n\"}\n\n");
}

} // namespace cligw
