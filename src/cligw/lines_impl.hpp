/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Template part of LineSplitter (included by cligw/lines.hpp).
#pragma once

namespace cligw {

namespace detail {

inline std::string_view strip_cr(std::string_view line)
{
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    return line;
}

} // namespace detail

template <class Sink>
void LineSplitter::feed(std::string_view data, Sink &&sink)
{
    while (!data.empty()) {
        std::size_t nl = data.find('\n');

        if (nl == std::string_view::npos) {
            append_partial(data, sink, false);
            return;
        }

        std::string_view head = data.substr(0, nl);
        data.remove_prefix(nl + 1);

        if (pending_.empty() && detail::strip_cr(head).size() <= max_line_) {
            sink(detail::strip_cr(head)); // the common case: no copy
            continue;
        }

        // a CR at the end is followed by this "\n": it may be kept back
        append_partial(head, sink, false);
        sink(detail::strip_cr(pending_));
        pending_.clear();
    }
}

template <class Sink, class Whole>
void LineSplitter::feed(std::string_view data, Sink &&sink, Whole &&whole)
{
    if (!pending_.empty()) {
        // the unfinished line ends at the first "\n": the usual way
        std::size_t first = data.find('\n');
        if (first == std::string_view::npos) {
            feed(data, sink);
            return;
        }
        feed(data.substr(0, first + 1), sink);
        data.remove_prefix(first + 1);
    }

    // no line of data can be longer than max_line_ when data is not, and
    // none is unfinished before it: up to the last "\n" are whole lines
    if (pending_.empty() && data.size() <= max_line_) {
        std::size_t last = data.rfind('\n');

        if (last != std::string_view::npos) {
            whole(data.substr(0, last + 1));
            data.remove_prefix(last + 1);
        }
    }

    feed(data, sink);
}

template <class Sink>
void LineSplitter::finish(Sink &&sink)
{
    append_partial(std::string_view(), sink, true);

    if (!pending_.empty()) {
        sink(std::string_view(pending_));
        pending_.clear();
    }
}

// Appends to the unfinished line, reporting pieces so that it never holds
// more than max_line_ bytes, plus one "\r" that may yet end the line.
template <class Sink>
void LineSplitter::append_partial(std::string_view data, Sink &sink,
                                  bool at_end)
{
    for (;;) {
        std::size_t take = std::min(data.size(),
                                    max_line_ + 1 - pending_.size());
        if (pending_.size() + take > pending_.capacity()) {
            // grown as a string would, but never past what it may hold
            pending_.reserve(std::min(std::max(2 * pending_.capacity(),
                                               pending_.size() + take),
                                      max_line_ + 1));
        }
        pending_.append(data.data(), take);
        data.remove_prefix(take);

        bool more = !data.empty();

        while (pending_.size() > max_line_
               && (more || at_end || pending_.back() != '\r'
                   || pending_.size() > max_line_ + 1))
        {
            std::size_t n = piece_length(pending_);
            sink(std::string_view(pending_).substr(0, n));
            pending_.erase(0, n);
        }

        if (!more) {
            return;
        }
    }
}

} // namespace cligw
