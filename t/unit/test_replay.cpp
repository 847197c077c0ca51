/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Numbered events and the replay ring of runs kept in a zone.

#include "unit.hpp"

#include <cstdio>
#include <cstring>
#include <vector>

#include "cligw/replay.hpp"
#include "cligw/sse.hpp"

using namespace cligw;

// A log written through EventIds: every id is the offset after its event.
static void test_event_ids(void **)
{
    std::string log;
    EventIds<std::string> ids(log, 0);

    sse_append_started(ids, 42, "edge1-00000000000000ff");
    std::string first =
        "event: cli\ndata: {\"type\":\"started\",\"pid\":42,"
        "\"run_id\":\"edge1-00000000000000ff\"}\nid: 57\n\n";
    assert_bytes_equal(log, first);
    assert_int_equal(log.size(), 0x57);

    sse_append_line(ids, StreamKind::out, "a");
    sse_append_lines(ids, StreamKind::err, "b\r\nc\n");
    sse_append_error(ids, "Cancelled");
    sse_append_exit_code(ids, -1);

    // each id line names the offset right after its event
    std::size_t at = 0, events = 0;
    while (at < log.size()) {
        std::size_t end = log.find("\n\n", at) + 2;
        std::size_t id = log.rfind("\nid: ", end) + 5;
        assert_true(id > at);
        assert_int_equal(std::stoull(log.substr(id), nullptr, 16), end);
        at = end;
        events++;
    }
    assert_int_equal(events, 6);
    assert_int_equal(ids.offset(), log.size());

    // the same bytes as unnumbered events, but for the id lines
    std::string plain;
    sse_append_lines(plain, StreamKind::err, "b\r\nc\n");
    assert_true(log.find("event: cli\ndata: {\"type\":\"stderr\",\"data\":\"b\\n\"}\nid: ")
                != std::string::npos);
    assert_true(plain.find("\nid: ") == std::string::npos);

    // ids whose own line carries them past a power of 16, near 0x100
    for (std::uint64_t start = 0x100 - 60; start < 0x100 - 40; start++) {
        std::string pad;
        EventIds<std::string> near(pad, start);
        sse_append_line(near, StreamKind::out, "x");
        char want[32];
        std::snprintf(want, sizeof(want), "\nid: %llx\n\n",
                      static_cast<unsigned long long>(near.offset()));
        assert_true(pad.size() > 20 && pad.substr(pad.size() - std::strlen(want)) == want);
    }

    std::string gap;
    sse_append_gap(gap, 1200, 4096);
    assert_bytes_equal(gap, "event: cli\ndata: {\"type\":\"gap\",\"lost_bytes\":1200}\nid: 1000\n\n");
}

static void test_ring(void **)
{
    std::vector<char> mem(16);
    ReplayRing ring = { mem.data(), mem.size(), 0, 0, 0 };
    std::string out;
    RingRead read;

    ring_write(ring, "0123456789", 10);
    assert_true(ring_read(ring, 0, 100, out, read));
    assert_bytes_equal(out, "");            // not published yet
    ring_publish(ring);

    assert_true(ring_read(ring, 3, 100, out, read));
    assert_bytes_equal(out, "3456789");
    assert_int_equal(read.from, 3);
    assert_int_equal(read.head, 10);
    assert_false(ring_read(ring, 11, 100, out, read));

    // past the ring's size: the oldest bytes are gone, reads start later
    ring_write(ring, "abcdefghij", 10);
    ring_publish(ring);
    out.clear();
    assert_true(ring_read(ring, 0, 100, out, read));
    assert_int_equal(read.from, 4);
    assert_bytes_equal(out, "456789abcdefghij");

    out.clear();
    assert_true(ring_read(ring, 6, 5, out, read));
    assert_bytes_equal(out, "6789a");

    // a write larger than the ring keeps its end
    ring_write(ring, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26);
    ring_publish(ring);
    out.clear();
    assert_true(ring_read(ring, 0, 100, out, read));
    assert_int_equal(read.from, 46 - 16);
    assert_bytes_equal(out, "KLMNOPQRSTUVWXYZ");

    // moved to a larger ring, then a smaller one: offsets stay
    std::vector<char> big(64), small(8);
    ring_move(ring, big.data(), big.size());
    ring_write(ring, "12", 2);
    ring_publish(ring);
    out.clear();
    assert_true(ring_read(ring, 40, 100, out, read));
    assert_bytes_equal(out, "UVWXYZ12");
    ring_move(ring, small.data(), small.size());
    out.clear();
    assert_true(ring_read(ring, 0, 100, out, read));
    assert_int_equal(read.from, 40);
    assert_bytes_equal(out, "UVWXYZ12");
}

// A writer that died after ring_write, before ring_publish, maybe in the
// middle of its copy: what comes next follows what it published, and
// what its write overwrote is not read as the log's.
static void test_abandon(void **)
{
    std::vector<char> mem(16);
    ReplayRing ring = { mem.data(), mem.size(), 0, 0, 0 };
    std::string out;
    RingRead read;

    ring_write(ring, "0123456789", 10);
    ring_publish(ring);
    ring_write(ring, "XXXX", 4);            // never published
    ring_abandon(ring);
    ring_write(ring, "tail", 4);
    ring_publish(ring);
    assert_true(ring_read(ring, 0, 100, out, read));
    assert_int_equal(read.from, 0);
    assert_bytes_equal(out, "0123456789tail");

    // the lost write wrapped over the oldest bytes: those are not kept
    std::vector<char> mem2(16);
    ReplayRing full = { mem2.data(), mem2.size(), 0, 0, 0 };
    ring_write(full, "0123456789abcdef", 16);
    ring_publish(full);
    ring_write(full, "UVWXYZ", 6);          // over log bytes 0-5
    ring_abandon(full);
    ring_write(full, "!!", 2);
    ring_publish(full);
    out.clear();
    assert_true(ring_read(full, 0, 100, out, read));
    assert_int_equal(read.from, 6);
    assert_int_equal(read.head, 18);
    assert_bytes_equal(out, "6789abcdef!!");

    // a lost write larger than the ring: nothing before head is kept
    std::vector<char> mem3(8);
    ReplayRing big = { mem3.data(), mem3.size(), 0, 0, 0 };
    ring_write(big, "0123", 4);
    ring_publish(big);
    ring_write(big, "ABCDEFGHIJKLMNOPQRST", 20);
    ring_abandon(big);
    out.clear();
    assert_true(ring_read(big, 0, 100, out, read));
    assert_bytes_equal(out, "");
    ring_write(big, "end", 3);
    ring_publish(big);
    out.clear();
    assert_true(ring_read(big, 0, 100, out, read));
    assert_int_equal(read.from, 4);
    assert_bytes_equal(out, "end");
}

static void test_event_ends(void **)
{
    std::vector<char> mem(64);
    ReplayRing ring = { mem.data(), mem.size(), 0, 0, 0 };
    std::string log = "event: a\n\nevent: b\n\n";

    ring_write(ring, log.data(), log.size());
    ring_publish(ring);

    assert_true(ring_is_event_end(ring, 0));
    assert_true(ring_is_event_end(ring, 10));
    assert_true(ring_is_event_end(ring, 20));
    assert_false(ring_is_event_end(ring, 9));
    assert_false(ring_is_event_end(ring, 21));

    assert_true(ring_is_checked_start(ring, 0));
    assert_true(ring_is_checked_start(ring, 10));

    // wrapped: the kept log starts at 14, within "event: b\n\n"; an offset
    // there, or one byte on, cannot be checked
    std::vector<char> mem16(16);
    ReplayRing wrapped = { mem16.data(), mem16.size(), 0, 0, 0 };
    std::string log3 = log + "event: c\n\n";

    ring_write(wrapped, log3.data(), log3.size());
    ring_publish(wrapped);

    assert_true(ring_is_event_end(wrapped, 14));
    assert_false(ring_is_checked_start(wrapped, 14));
    assert_false(ring_is_checked_start(wrapped, 15));
    assert_true(ring_is_checked_start(wrapped, 16));
    assert_false(ring_is_event_end(wrapped, 16));
    assert_true(ring_is_event_end(wrapped, 20));
    assert_true(ring_is_checked_start(wrapped, 20));
    assert_true(ring_is_checked_start(wrapped, 0));

    assert_int_equal(first_event_end(log), 10);
    assert_int_equal(first_event_end(log, 10), 20);
    assert_int_equal(first_event_end("no end"), std::string::npos);
    assert_int_equal(last_event_end(log), 20);
    assert_int_equal(last_event_end("event: a\n\nevent"), 10);
    assert_int_equal(last_event_end("event"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_ids),
        cmocka_unit_test(test_ring),
        cmocka_unit_test(test_abandon),
        cmocka_unit_test(test_event_ends),
    };
    return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
