/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Output blocks: bytes come out in order whatever the block boundaries,
// every block goes back to the pool, and the pool keeps only its bound.

#include "unit.hpp"

#include <vector>

#include "cligw/blocks.hpp"
#include "probes.hpp"
#include "cligw/sse.hpp"

using namespace cligw;

// Takes every chunk, checks none is larger than a block, gives them back.
static std::string drain(BlockWriter &w, BlockPool &pool)
{
    std::string out;
    for (Chunk c = w.take_front(); c.data; c = w.take_front()) {
        assert_true(c.size > 0 && c.size <= pool.block_size());
        out.append(c.data, c.size);
        pool.give(c.data);
    }
    assert_true(w.empty());
    return out;
}

static void test_order_across_blocks(void **)
{
    BlockPool pool(8, 4);
    BlockWriter w(pool);
    std::string expected;

    for (int i = 0; i < 50; i++) {
        std::string piece(static_cast<std::size_t>(i % 13), char('a' + i % 26));
        w.append(piece);
        expected += piece;
        assert_int_equal(w.size(), expected.size());
    }

    // ceil(size / 8) blocks out, each full but the last
    assert_int_equal(pool.outstanding(), (expected.size() + 7) / 8);
    assert_bytes_equal(drain(w, pool), expected);
    assert_int_equal(pool.outstanding(), 0);
    assert_int_equal(BlockPoolProbe::kept(pool), 4);
}

static void test_take_then_append(void **)
{
    BlockPool pool(16, 4);
    BlockWriter w(pool);

    Chunk none = w.take_front();
    assert_null(none.data);
    assert_int_equal(none.size, 0);

    w.append("first");
    Chunk c = w.take_front();              // the partly filled block
    assert_int_equal(c.size, 5);
    assert_true(w.empty());

    w.append("second, after the take");    // a new block, then another
    assert_bytes_equal(std::string(c.data, c.size), "first");
    assert_bytes_equal(drain(w, pool), "second, after the take");

    pool.give(c.data);
    assert_int_equal(pool.outstanding(), 0);
}

static void test_writer_gives_back(void **)
{
    BlockPool pool(4, 8);
    {
        BlockWriter w(pool);
        w.append("0123456789abcdef0123");  // five blocks
        Chunk c = w.take_front();
        assert_int_equal(pool.outstanding(), 5);
        pool.give(c.data);
    }
    // the four it still held went back with it
    assert_int_equal(pool.outstanding(), 0);
    assert_int_equal(BlockPoolProbe::kept(pool), 5);
}

static void test_pool_bound_and_reuse(void **)
{
    BlockPool pool(64 * 1024, 2);
    std::vector<char *> blocks;

    for (int i = 0; i < 5; i++) {
        blocks.push_back(pool.take());
        blocks.back()[0] = 'x';                    // writable
        blocks.back()[64 * 1024 - 1] = 'y';
    }
    assert_int_equal(pool.outstanding(), 5);

    for (char *b : blocks) {
        pool.give(b);
    }
    assert_int_equal(pool.outstanding(), 0);
    assert_int_equal(BlockPoolProbe::kept(pool), 2);              // three were unmapped

    char *again = pool.take();                     // the last one kept
    assert_ptr_equal(again, blocks[1]);
    assert_int_equal(BlockPoolProbe::kept(pool), 1);
    pool.give(again);
}

// The encoder writes the same bytes into blocks as into a string, also
// when escapes, U+FFFD and event frames straddle block boundaries.
static void test_sse_into_blocks(void **)
{
    const std::string_view lines[] = {
        "plain", "", "tab\there \"quoted\" back\\slash", "\x01\x1f ctl",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "bad \xff\xfe \xc3",
        std::string_view("nul\0byte", 8), "a longer line that spans blocks",
    };

    for (std::size_t size : { 1, 2, 3, 5, 7, 64 }) {
        BlockPool pool(size, 4);
        BlockWriter w(pool);
        std::string expected;

        sse_append_started(w, 4242);
        sse_append_started(expected, 4242);
        for (std::string_view l : lines) {
            sse_append_line(w, StreamKind::out, l);
            sse_append_line(expected, StreamKind::out, l);
            sse_append_line(w, StreamKind::err, l);
            sse_append_line(expected, StreamKind::err, l);
        }
        sse_append_error(w, "Timeout after 5s");
        sse_append_error(expected, "Timeout after 5s");
        sse_append_exit_code(w, -1);
        sse_append_exit_code(expected, -1);

        assert_bytes_equal(drain(w, pool), expected);
        assert_int_equal(pool.outstanding(), 0);
    }
}

// The last n bytes appended, across blocks, after some were taken.
static void test_visit_tail(void **)
{
    BlockPool pool(8, 4);
    BlockWriter w(pool);
    std::string all;

    for (int i = 0; i < 30; i++) {
        std::string piece(static_cast<std::size_t>(i % 7), char('a' + i % 26));
        w.append(piece);
        all += piece;
    }

    Chunk first = w.take_front();
    std::size_t kept = all.size() - first.size;
    pool.give(first.data);
    assert_int_equal(w.size(), kept);

    for (std::size_t n = 0; n <= kept; n++) {
        std::string seen;
        w.visit_tail(n, [&](const char *p, std::size_t k) {
            assert_true(k > 0);
            seen.append(p, k);
        });
        assert_bytes_equal(seen, all.substr(all.size() - n));
    }

    drain(w, pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_across_blocks),
        cmocka_unit_test(test_take_then_append),
        cmocka_unit_test(test_writer_gives_back),
        cmocka_unit_test(test_pool_bound_and_reuse),
        cmocka_unit_test(test_sse_into_blocks),
        cmocka_unit_test(test_visit_tail),
    };
    return cmocka_run_group_tests_name("blocks", tests, NULL, NULL);
}
