/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Line splitting: what becomes one event.

#include "unit.hpp"

#include <random>
#include <vector>

#include "cligw/lines.hpp"
#include "probes.hpp"
#include "cligw/sse.hpp"

using namespace cligw;

using Lines = std::vector<std::string>;

// Feeds the chunks, then ends the input; returns the lines reported. The
// same chunks through feed() with whole lines in one piece (split here as
// an encoder would) must give the same lines.
static Lines split(std::size_t max_line, const std::vector<std::string> &chunks)
{
    LineSplitter splitter(max_line), runs(max_line);
    Lines lines, from_runs;
    auto sink = [&](std::string_view l) { lines.emplace_back(l); };
    auto run_sink = [&](std::string_view l) { from_runs.emplace_back(l); };
    auto whole = [&](std::string_view run) {
        assert_true(!run.empty() && run.back() == '\n');
        while (!run.empty()) {
            std::size_t nl = run.find('\n');
            std::string_view l = run.substr(0, nl);
            if (!l.empty() && l.back() == '\r') {
                l.remove_suffix(1);
            }
            assert_true(l.size() <= std::max<std::size_t>(max_line, 4));
            from_runs.emplace_back(l);
            run.remove_prefix(nl + 1);
        }
    };

    for (const std::string &c : chunks) {
        assert_true(LineSplitterProbe::pending(splitter) <= std::max<std::size_t>(max_line, 4) + 1);
        splitter.feed(c, sink);
        runs.feed(c, run_sink, whole);
    }
    splitter.finish(sink);
    runs.finish(run_sink);
    assert_int_equal(LineSplitterProbe::pending(splitter), 0);

    assert_int_equal(from_runs.size(), lines.size());
    for (std::size_t i = 0; i < lines.size(); i++) {
        assert_bytes_equal(from_runs[i], lines[i]);
    }
    return lines;
}

// The same input one byte at a time must give the same lines.
static Lines bytewise(std::size_t max_line, const std::string &input)
{
    std::vector<std::string> chunks;
    for (char c : input) {
        chunks.emplace_back(1, c);
    }
    return split(max_line, chunks);
}

static void expect(std::size_t max_line, const std::string &input,
                   const Lines &expected)
{
    Lines whole = split(max_line, { input });
    Lines bytes = bytewise(max_line, input);

    // sizes first: the loop reads both at every index
    assert_int_equal(whole.size(), expected.size());
    assert_int_equal(bytes.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); i++) {
        assert_bytes_equal(whole[i], expected[i]);
        assert_bytes_equal(bytes[i], expected[i]);
    }
}

static void test_newlines(void **)
{
    expect(64, "a\nb\n", { "a", "b" });
    expect(64, "a\r\nb\r\n", { "a", "b" });
    expect(64, "\n\n", { "", "" });
    expect(64, "x\ry\n", { "x\ry" });          // a lone CR stays
    expect(64, "a\r\r\n", { "a\r" });          // only one CR goes
    expect(64, "", {});
    expect(64, "\r\n", { "" });
    expect(64, "\r\n\r\n\n", { "", "", "" });
    expect(64, "\ra\n", { "\ra" });
    expect(64, "a\n\rb\r\r\nc", { "a", "\rb\r", "c" });
    expect(64, "one\ntwo\r\nthree\n", { "one", "two", "three" });
}

static void test_chunk_boundaries(void **)
{
    // CRLF and lines split over feeds in every way
    assert_true(split(64, { "a\r", "\nb", "\n" }) == Lines({ "a", "b" }));
    assert_true(split(64, { "a", "\r", "\n" }) == Lines({ "a" }));
    assert_true(split(64, { "a\r", "b\n" }) == Lines({ "a\rb" }));
    assert_true(split(64, { "a\r", "\r\n" }) == Lines({ "a\r" }));
    assert_true(split(64, { "ab", "cd", "\nef", "" }) == Lines({ "abcd", "ef" }));
    assert_true(split(64, { "", "\n", "" }) == Lines({ "" }));

    // pending is what is unfinished, and finish() resets
    LineSplitter splitter(64);
    Lines lines;
    auto sink = [&](std::string_view l) { lines.emplace_back(l); };
    splitter.feed("x\ny", sink);
    assert_int_equal(LineSplitterProbe::pending(splitter), 1);
    splitter.finish(sink);
    assert_int_equal(LineSplitterProbe::pending(splitter), 0);
    splitter.finish(sink); // nothing more
    splitter.feed("z\n", sink);
    assert_true(lines == Lines({ "x", "y", "z" }));
}

static void test_final_line(void **)
{
    expect(64, "a\nlast", { "a", "last" });
    expect(64, "z\r", { "z\r" });              // as Rust: CR kept at EOF
    expect(64, "\r", { "\r" });
    expect(64, "a\nb\r\r", { "a", "b\r\r" });
    expect(8, "01234567\r", { "01234567", "\r" }); // max + CR at EOF
    expect(8, "0123456\r", { "0123456\r" });
}

static void test_long_lines(void **)
{
    expect(8, "0123456789abcdefXYZ\n", { "01234567", "89abcdef", "XYZ" });
    expect(8, "01234567\n", { "01234567" });   // exactly max: one event
    expect(8, "01234567\r\n", { "01234567" }); // max + CRLF: one event
    expect(8, "012345678\n", { "01234567", "8" });
    expect(8, "0123456789abcdef", { "01234567", "89abcdef" });
    expect(8, "01234567\rX\n", { "01234567", "\rX" });
    // CR and LF at the cut
    expect(8, "0123456\r\n", { "0123456" });
    expect(8, "0123456\r8\n", { "0123456\r", "8" });
    expect(8, "01234567\r\r\n", { "01234567", "\r" });
    expect(8, "01234567\n89abcdef\r\n", { "01234567", "89abcdef" });
    expect(8, "0123456789abcdef\r\n", { "01234567", "89abcdef" });
    expect(8, "0123456789abcdef\rX\n", { "01234567", "89abcdef", "\rX" });
    expect(8, "01234567\r\r\r\r\r\r\r\r\r\n", { "01234567", "\r\r\r\r\r\r\r\r" });
    // exact multiples
    expect(8, std::string(24, 'a') + "\n",
           { std::string(8, 'a'), std::string(8, 'a'), std::string(8, 'a') });
    expect(8, std::string(25, 'a'),
           { std::string(8, 'a'), std::string(8, 'a'), std::string(8, 'a'),
             "a" });
    // the smallest limit, and limits below it
    expect(4, "abcdefghij\n", { "abcd", "efgh", "ij" });
    expect(1, "abcdefghij\n", { "abcd", "efgh", "ij" });
    expect(0, "abcd\r\n", { "abcd" });
}

static void test_utf8_safe_cut(void **)
{
    // "abcdef" + 3-byte euro sign: cutting at 8 would split it
    expect(8, "abcdef\xe2\x82\xac!\n", { "abcdef", "\xe2\x82\xac!" });
    // 4-byte sequence starting at 5
    expect(8, "abcde\xf0\x9f\x98\x80xyz\n", { "abcde", "\xf0\x9f\x98\x80xyz" });
    // a sequence ending exactly at the cut is whole
    expect(8, "abcde\xe2\x82\xacz\n", { "abcde\xe2\x82\xac", "z" });
    // garbage continuation bytes are cut anywhere
    expect(4, "\x80\x80\x80\x80\x80\n", { "\x80\x80\x80\x80", "\x80" });
    // a 2-byte sequence across the cut; one ending at it
    expect(8, "abcdefg\xc3\xa9\n", { "abcdefg", "\xc3\xa9" });
    expect(8, "abcdef\xc3\xa9z\n", { "abcdef\xc3\xa9", "z" });
    // a 4-byte sequence with 1, 2 or 3 bytes before the cut
    expect(8, "abcdefg\xf0\x9f\x98\x80\n", { "abcdefg", "\xf0\x9f\x98\x80" });
    expect(8, "abcdef\xf0\x9f\x98\x80\n", { "abcdef", "\xf0\x9f\x98\x80" });
    expect(8, "abcd\xf0\x9f\x98\x80\xf0\x9f\x98\x80\n",
           { "abcd\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" });
    // a line of nothing but 4-byte characters, limit not a multiple of 4
    expect(6, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\n",
           { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" });
    // not a valid beginning of a sequence: cut at the limit
    expect(8, "abcdef\xe0\x80zz\n", { "abcdef\xe0\x80", "zz" }); // overlong
    expect(8, "abcdef\xed\xa0zz\n", { "abcdef\xed\xa0", "zz" }); // surrogate
    expect(8, "abcdef\xf4\x90zz\n", { "abcdef\xf4\x90", "zz" }); // > U+10FFFF
    expect(8, "abcdef\xc0\xafzz\n", { "abcdef\xc0\xaf", "zz" }); // C0
    expect(8, "abcdefg\xff\x80\n", { "abcdefg\xff", "\x80" });
    expect(8, "abcd\xc3\xa9\x80\x80zz\n", { "abcd\xc3\xa9\x80\x80", "zz" });
    // a valid beginning, even if what follows the cut spoils it
    expect(8, "abcdefg\xe2" "A\n", { "abcdefg", "\xe2" "A" });
    // at the limit 4 a 4-byte character backs off to an empty piece: no
    expect(4, "a\xf0\x9f\x98\x80\n", { "a", "\xf0\x9f\x98\x80" });
    expect(4, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\n",
           { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80" });
}

// Random input from an alphabet rich in CR, LF and UTF-8 parts, fed in
// random chunks: every piece fits, the pieces of a line put together are
// the line, and encoding the pieces gives what encoding the line does
// (no sequence was cut).
static void test_random(void **)
{
    static const char *const alphabet[] = {
        "a", "b", "\r", "\n", "\r\n", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xe2", "\x82", "\xf0\x9f", "\xff", "\xed\xa0",
    };
    std::mt19937 rng(12345);

    for (int round = 0; round < 3000; round++) {
        std::size_t max_line = 4 + rng() % 9;
        std::string input;
        for (std::size_t n = rng() % 40; n > 0; n--) {
            input += alphabet[rng() % (sizeof(alphabet) / sizeof(*alphabet))];
        }

        // Rust's lines(): split at LF, drop one CR before it
        Lines reference;
        std::size_t from = 0;
        for (;;) {
            std::size_t nl = input.find('\n', from);
            if (nl == std::string::npos) {
                if (from < input.size()) reference.push_back(input.substr(from));
                break;
            }
            std::string l = input.substr(from, nl - from);
            if (!l.empty() && l.back() == '\r') l.pop_back();
            reference.push_back(l);
            from = nl + 1;
        }

        std::vector<std::string> chunks;
        for (std::size_t at = 0; at < input.size();) {
            std::size_t n = 1 + rng() % 12;
            chunks.push_back(input.substr(at, n));
            at += n;
        }

        Lines whole = split(max_line, { input });
        Lines pieces = split(max_line, chunks);
        assert_true(pieces == whole);

        std::size_t p = 0;
        for (const std::string &l : reference) {
            std::string joined, encoded;
            do {
                assert_true(p < pieces.size());
                assert_true(pieces[p].size() <= max_line);
                joined += pieces[p];
                json_append_escaped(encoded, pieces[p]);
                p++;
            } while (joined.size() < l.size());
            assert_bytes_equal(joined, l);
            std::string expected;
            json_append_escaped(expected, l);
            assert_bytes_equal(encoded, expected);
        }
        assert_int_equal(p, pieces.size());
    }
}

static void test_zero_copy(void **)
{
    // complete lines from one chunk are reported without buffering
    LineSplitter splitter(64);
    std::string data = "one\ntwo\nthr";
    std::vector<const char *> starts;
    splitter.feed(data, [&](std::string_view l) { starts.push_back(l.data()); });
    assert_int_equal(starts.size(), 2);
    assert_ptr_equal(starts[0], data.data());
    assert_ptr_equal(starts[1], data.data() + 4);
    assert_int_equal(LineSplitterProbe::pending(splitter), 3);

    splitter.release_memory(); // keeps what is pending
    Lines rest;
    splitter.feed("ee\n", [&](std::string_view l) { rest.emplace_back(l); });
    assert_int_equal(rest.size(), 1);
    assert_bytes_equal(rest[0], "three");

    // a line that fits, after a buffered one, comes from the new data too
    starts.clear();
    std::string more = "four\nfive\n";
    splitter.feed(more, [&](std::string_view l) { starts.push_back(l.data()); });
    assert_int_equal(starts.size(), 2);
    assert_ptr_equal(starts[0], more.data());

    // release_memory() frees the buffer only when nothing is pending
    LineSplitter big(1 << 20);
    std::string half(100000, 'x');
    big.feed(half, [](std::string_view) {});
    big.release_memory();
    assert_int_equal(LineSplitterProbe::pending(big), 100000);
    Lines got;
    big.feed("\n", [&](std::string_view l) { got.emplace_back(l); });
    assert_int_equal(got.size(), 1);
    assert_bytes_equal(got[0], half);
    big.release_memory();
    assert_int_equal(LineSplitterProbe::pending(big), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newlines),
        cmocka_unit_test(test_chunk_boundaries),
        cmocka_unit_test(test_final_line),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_utf8_safe_cut),
        cmocka_unit_test(test_zero_copy),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests_name("lines", tests, NULL, NULL);
}
