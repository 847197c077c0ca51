/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Splits a byte stream into lines of bounded length (no nginx types).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace cligw {

// Lines are reported without their "\n" and without one "\r" before it
// (Rust's BufRead::lines). A line longer than max_line is reported in pieces
// of at most max_line bytes, cut where no UTF-8 sequence is split; a line of
// max_line bytes ending in "\r\n" is still one line. At end of input the
// unfinished line is reported as is (a final "\r" kept, as Rust does). Only
// an unfinished line is kept between feeds (at most max_line + 1 bytes).
class LineSplitter {
public:
    explicit LineSplitter(std::size_t max_line);

    // sink(std::string_view line) is called for every line completed by data.
    template <class Sink> void feed(std::string_view data, Sink &&sink);
    // The same lines, but a run of whole lines that need no cutting goes to
    // whole(std::string_view lines) in one piece: each ends in "\n", a "\r"
    // before it still there (for an encoder that splits as it encodes).
    template <class Sink, class Whole>
    void feed(std::string_view data, Sink &&sink, Whole &&whole);
    // Reports the unfinished line, if any, and resets.
    template <class Sink> void finish(Sink &&sink);

    void release_memory(); // frees the buffer when nothing is pending

private:
    friend struct LineSplitterProbe;   // the unit tests look at pending_

    template <class Sink>
    void append_partial(std::string_view data, Sink &sink, bool at_end);

    // Length of the longest prefix of s (s.size() > max_line_) that may be
    // reported as a piece: <= max_line_, not cutting a UTF-8 sequence.
    std::size_t piece_length(std::string_view s) const;

    std::size_t max_line_;
    std::string pending_;
};

} // namespace cligw

#include "cligw/lines_impl.hpp"
