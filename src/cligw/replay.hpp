/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// A run's event log as kept for replay: its last `size` bytes in a ring
// (no nginx types). The ring lives in memory shared by the workers: one
// writer (the worker running the program) appends without a lock; readers
// (streams reattached in any worker) copy, then check that the writer did
// not write over what they copied meanwhile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cligw {

struct ReplayRing {
    char          *data;
    std::size_t    size;      // bytes of data; the log's last size bytes
    std::uint64_t  head;      // bytes of the log readers may read
    std::uint64_t  writing;   // bytes of the log written or being written
    std::uint64_t  floor;     // below it nothing is kept (a move lost it)
};

// Where the kept log starts, with the writer at `writing`: what is below
// was overwritten, or not kept when the ring moved.
inline std::uint64_t ring_oldest(const ReplayRing &ring,
                                 std::uint64_t writing)
{
    std::uint64_t wrapped = writing > ring.size ? writing - ring.size : 0;
    return wrapped > ring.floor ? wrapped : ring.floor;
}

// Writer: appends n bytes (of them the last size bytes are kept).
void ring_write(ReplayRing &ring, const char *p, std::size_t n);
// Writer: readers may read what was written.
void ring_publish(ReplayRing &ring);
// Writer, with no reader copying: moves the kept bytes to a ring of
// another size, keeping as many of the newest as it holds.
void ring_move(ReplayRing &ring, char *data, std::size_t size);

// With no writer any more (its worker died): what it wrote but did not
// publish may be torn (it died copying) and is dropped, the log goes on
// from head; what that write overwrote of the oldest bytes is not kept.
void ring_abandon(ReplayRing &ring);

struct RingRead {
    std::uint64_t  from;      // offset of out's first byte (> asked: a gap)
    std::uint64_t  head;      // the log's end when read
};

// Reader: appends to out the log's bytes from offset `from`, at most max,
// starting later where they were overwritten. false when `from` lies
// beyond the log's end.
bool ring_read(const ReplayRing &ring, std::uint64_t from, std::size_t max,
               std::string &out, RingRead &read);

// Whether offset is the end of an event the ring still holds ("\n\n"
// before it), or the start of the log; true as well for an offset below
// what is kept, which cannot be checked.
bool ring_is_event_end(const ReplayRing &ring, std::uint64_t offset);

// Whether a reader may start at offset as it is: the start of the log, or
// an offset whose two bytes before it the ring holds (so ring_is_event_end
// checked them). From another offset, which ring_is_event_end accepts
// unchecked, a reader skips to the next event end it holds, and says so
// with a gap, rather than send what may be the rest of an event.
bool ring_is_checked_start(const ReplayRing &ring, std::uint64_t offset);

// The end of the first event end in s (after "\n\n"), or npos.
std::size_t first_event_end(const std::string &s, std::size_t from = 0);
// The end of the last event end in s, or 0.
std::size_t last_event_end(const std::string &s);

} // namespace cligw
