/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// SSE framing: the parts that are not templates (cligw_sse_impl.hpp).

#include "cligw_sse.hpp"

namespace cligw {

std::size_t sse_line_size_bound(std::size_t len)
{
    // "\u00xx" is the longest escape; U+FFFD (3 bytes) replaces >= 1 byte
    return 6 * len + sizeof("event: cli\ndata: {\"type\":\"stdout\",\"data\":\"")
           + sizeof("\\n\"}\n\n");
}

} // namespace cligw
