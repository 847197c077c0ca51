/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// libFuzzer: line splitting and SSE encoding of arbitrary program output,
// into a string and into output blocks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cligw/blocks.hpp"
#include "cligw/lines.hpp"
#include "cligw/sse.hpp"
#include "../unit/probes.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    // first byte: the line limit and the chunk size of the feeds
    std::size_t max_line = 4 + data[0] % 60;
    std::size_t chunk = 1 + data[0] % 7;
    std::string_view in(reinterpret_cast<const char *>(data) + 1, size - 1);

    cligw::LineSplitter splitter(max_line);
    std::string out;
    // small blocks, so that events straddle them; kept across inputs
    static cligw::BlockPool pool(7, 1 << 16);
    cligw::BlockWriter blocks(pool);
    auto sink = [&](std::string_view line) {
        if (line.size() > max_line) __builtin_trap();
        std::size_t before = out.size();
        cligw::sse_append_line(out, cligw::StreamKind::out, line);
        cligw::sse_append_line(blocks, cligw::StreamKind::out, line);
        if (out.size() - before > cligw::sse_line_size_bound(line.size())) {
            __builtin_trap();
        }
    };

    // the same through the one-pass encoder of whole lines
    cligw::LineSplitter runs(max_line);
    std::string fused;
    auto run_sink = [&](std::string_view line) {
        cligw::sse_append_line(fused, cligw::StreamKind::out, line);
    };
    auto whole = [&](std::string_view lines) {
        cligw::sse_append_lines(fused, cligw::StreamKind::out, lines);
    };

    for (std::size_t i = 0; i < in.size(); i += chunk) {
        splitter.feed(in.substr(i, chunk), sink);
        runs.feed(in.substr(i, chunk), run_sink, whole);
    }
    splitter.finish(sink);
    runs.finish(run_sink);
    if (fused != out) __builtin_trap();

    // blocks hold the same bytes, in order, and all go back
    std::string joined;
    for (cligw::Chunk c = blocks.take_front(); c.data; c = blocks.take_front()) {
        joined.append(c.data, c.size);
        pool.give(c.data);
    }
    if (joined != out || pool.outstanding() != 0) __builtin_trap();

    // an event's data is one line: no raw newline or control byte inside
    // the JSON, and every event ends the same way
    for (std::size_t at = 0; at < out.size();) {
        std::size_t end = out.find("\n\n", at);
        if (end == std::string::npos) __builtin_trap();
        std::string_view ev(out.data() + at, end - at);
        std::size_t nl = ev.find('\n');
        if (ev.substr(0, nl) != "event: cli") __builtin_trap();
        for (unsigned char c : ev.substr(nl + 1)) {
            if (c < 0x20) __builtin_trap();
        }
        at = end + 2;
    }
    return 0;
}
