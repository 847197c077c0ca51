/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

#include "cligw/replay.hpp"

#include <algorithm>
#include <cstring>

namespace cligw {

namespace {

// The single writer stores with release, readers load with acquire: a
// reader that sees head sees the bytes below it, and one that sees
// writing after its copy knows which bytes it copied may be newer ones.
std::uint64_t load(const std::uint64_t &word)
{
    return __atomic_load_n(&word, __ATOMIC_ACQUIRE);
}

void store(std::uint64_t &word, std::uint64_t value)
{
    __atomic_store_n(&word, value, __ATOMIC_RELEASE);
}

// Copies [from, to) of the log, all of it kept, out of the ring.
void copy_out(const ReplayRing &ring, std::uint64_t from, std::uint64_t to,
              char *out)
{
    while (from < to) {
        std::size_t pos = from % ring.size;
        std::size_t n = std::min<std::uint64_t>(to - from, ring.size - pos);
        std::memcpy(out, ring.data + pos, n);
        out += n;
        from += n;
    }
}

} // namespace


void ring_write(ReplayRing &ring, const char *p, std::size_t n)
{
    std::uint64_t at = ring.writing;

    if (n > ring.size) {
        p += n - ring.size;
        at += n - ring.size;
        n = ring.size;
    }

    // readers learn that these bytes are being replaced before they are
    store(ring.writing, at + n);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    while (n) {
        std::size_t pos = at % ring.size;
        std::size_t k = std::min(n, ring.size - pos);
        std::memcpy(ring.data + pos, p, k);
        p += k;
        at += k;
        n -= k;
    }
}


void ring_publish(ReplayRing &ring)
{
    store(ring.head, ring.writing);
}


void ring_move(ReplayRing &ring, char *data, std::size_t size)
{
    ReplayRing moved = ring;
    moved.size = size;
    moved.floor = 0;

    // what both rings can hold: the old one's kept bytes, as many of the
    // newest as the new one has room for; below that, nothing is kept
    std::uint64_t start = std::max(ring_oldest(ring, ring.writing),
                                   ring_oldest(moved, ring.writing));

    // from ring to ring, no allocation: the writer may hold a lock
    for (std::uint64_t at = start; at < ring.writing; ) {
        std::size_t from = at % ring.size;
        std::size_t to = at % size;
        std::size_t k = std::min<std::uint64_t>(ring.writing - at,
                                                std::min(ring.size - from,
                                                         size - to));
        std::memcpy(data + to, ring.data + from, k);
        at += k;
    }

    ring.data = data;
    ring.size = size;
    ring.floor = start;
}


void ring_abandon(ReplayRing &ring)
{
    std::uint64_t head = load(ring.head);

    // the ring's places the lost write took held the oldest bytes kept
    ring.floor = std::min(ring_oldest(ring, ring.writing), head);
    store(ring.writing, head);
}


bool ring_read(const ReplayRing &ring, std::uint64_t from, std::size_t max,
               std::string &out, RingRead &read)
{
    std::uint64_t head = load(ring.head);

    read.head = head;

    if (from > head) {
        return false;
    }

    for (;;) {
        std::uint64_t start = std::max(from, ring_oldest(ring, head));
        std::uint64_t end = std::min<std::uint64_t>(head, start + max);
        std::size_t at = out.size();

        out.resize(at + (end - start));
        copy_out(ring, start, end, &out[at]);

        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        std::uint64_t valid = ring_oldest(ring, load(ring.writing));

        if (valid <= start) {
            read.from = start;
            return true;
        }

        // the writer went past some of it: those bytes may be newer ones
        out.resize(at);

        if (valid < end) {
            std::uint64_t skip = valid - start;
            out.resize(at + (end - valid));
            copy_out(ring, valid, end, &out[at]);
            __atomic_thread_fence(__ATOMIC_SEQ_CST);

            if (ring_oldest(ring, load(ring.writing)) <= valid) {
                read.from = start + skip;
                return true;
            }

            out.resize(at);
        }

        // lapped while copying: once more from where the ring is now
        head = load(ring.head);
        read.head = head;
    }
}


bool ring_is_event_end(const ReplayRing &ring, std::uint64_t offset)
{
    if (offset == 0) {
        return true;
    }

    std::uint64_t head = load(ring.head);

    if (offset > head) {
        return false;
    }

    if (offset < ring_oldest(ring, head) + 2) {
        return true;
    }

    char tail[2];
    copy_out(ring, offset - 2, offset, tail);

    return tail[0] == '\n' && tail[1] == '\n'
           && ring_oldest(ring, load(ring.writing)) + 2 <= offset;
}


bool ring_is_checked_start(const ReplayRing &ring, std::uint64_t offset)
{
    return offset == 0
           || offset >= ring_oldest(ring, load(ring.writing)) + 2;
}


std::size_t first_event_end(const std::string &s, std::size_t from)
{
    std::size_t at = s.find("\n\n", from);
    return at == std::string::npos ? at : at + 2;
}


std::size_t last_event_end(const std::string &s)
{
    std::size_t at = s.rfind("\n\n");
    return at == std::string::npos ? 0 : at + 2;
}

} // namespace cligw
