/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// libFuzzer: a run's log written through EventIds into a replay ring that
// grows and shrinks, read back from arbitrary offsets. What a read returns
// is always the log's own bytes at the offset it names; a read starts no
// earlier than asked; an id is always the offset after its event; an
// offset is an event end exactly when the log has "\n\n" before it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cligw/replay.hpp"
#include "cligw/sse.hpp"

namespace {

struct RingOut {
    cligw::ReplayRing  &ring;
    std::string        &log;

    void append(const char *p, std::size_t n)
    {
        cligw::ring_write(ring, p, n);
        log.append(p, n);
    }
};

void check(bool ok)
{
    if (!ok) {
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::vector<char> mem(64 + (size ? data[0] % 64 : 0));
    cligw::ReplayRing ring = { mem.data(), mem.size(), 0, 0, 0 };
    std::vector<char> moved;
    std::string log;
    RingOut out = { ring, log };
    cligw::EventIds<RingOut> ids(out, 0);

    for (std::size_t i = 1; i + 1 < size; i += 2) {
        unsigned op = data[i] % 4, arg = data[i + 1];

        if (op == 0) {
            std::string line(arg % 40, static_cast<char>('a' + arg % 26));
            cligw::sse_append_line(ids, cligw::StreamKind::out, line);
            cligw::ring_publish(ring);
            check(ids.offset() == log.size());

        } else if (op == 1) {
            // a read from anywhere up to past the end
            std::uint64_t from = log.empty() ? 0 : (arg * 7919u) % (log.size() + 8);
            std::string got;
            cligw::RingRead read;

            if (!cligw::ring_read(ring, from, 1 + arg, got, read)) {
                check(from > log.size());
                continue;
            }

            check(read.from >= from && read.head == log.size());
            check(got == log.substr(read.from, got.size()));
            check(got.size() <= 1u + arg);

        } else if (op == 2) {
            std::uint64_t at = log.empty() ? 0 : (arg * 104729u) % (log.size() + 1);
            bool end = cligw::ring_is_event_end(ring, at);
            bool kept = at >= cligw::ring_oldest(ring, ring.writing) + 2;

            if (at == 0 || (kept && at <= log.size())) {
                check(end == (at == 0 || log.compare(at - 2, 2, "\n\n") == 0));
            }

        } else {
            // the ring moved to another size, as it grows or shrinks
            std::vector<char> next(16 + arg * 4);
            cligw::ring_move(ring, next.data(), next.size());
            moved.swap(next);
        }
    }

    // every id line names the offset right after its event
    for (std::size_t at = 0; at < log.size(); ) {
        std::size_t end = log.find("\n\n", at);
        check(end != std::string::npos);
        end += 2;
        std::size_t id = log.rfind("\nid: ", end);
        check(id != std::string::npos && id > at);
        check(std::strtoull(log.c_str() + id + 5, nullptr, 16) == end);
        at = end;
    }

    return 0;
}
