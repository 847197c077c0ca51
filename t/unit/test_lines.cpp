// Line splitting: what becomes one event.

#include "unit.hpp"

#include <vector>

#include "cligw_lines.hpp"

using namespace cligw;

using Lines = std::vector<std::string>;

// Feeds the chunks, then ends the input; returns the lines reported.
static Lines split(std::size_t max_line, const std::vector<std::string> &chunks)
{
    LineSplitter splitter(max_line);
    Lines lines;
    auto sink = [&](std::string_view l) { lines.emplace_back(l); };

    for (const std::string &c : chunks) {
        splitter.feed(c, sink);
        assert_true(splitter.pending() <= max_line + 1);
    }
    splitter.finish(sink);
    assert_int_equal(splitter.pending(), 0);
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

    assert_int_equal(whole.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); i++) {
        assert_bytes_equal(whole[i], expected[i]);
        assert_bytes_equal(bytes[i], expected[i]);
    }
    assert_int_equal(bytes.size(), expected.size());
}

static void test_newlines(void **)
{
    expect(64, "a\nb\n", { "a", "b" });
    expect(64, "a\r\nb\r\n", { "a", "b" });
    expect(64, "\n\n", { "", "" });
    expect(64, "x\ry\n", { "x\ry" });          // a lone CR stays
    expect(64, "a\r\r\n", { "a\r" });          // only one CR goes
    expect(64, "", {});
}

static void test_final_line(void **)
{
    expect(64, "a\nlast", { "a", "last" });
    expect(64, "z\r", { "z\r" });              // as Rust: CR kept at EOF
}

static void test_long_lines(void **)
{
    expect(8, "0123456789abcdefXYZ\n", { "01234567", "89abcdef", "XYZ" });
    expect(8, "01234567\n", { "01234567" });   // exactly max: one event
    expect(8, "01234567\r\n", { "01234567" }); // max + CRLF: one event
    expect(8, "012345678\n", { "01234567", "8" });
    expect(8, "0123456789abcdef", { "01234567", "89abcdef" });
    expect(8, "01234567\rX\n", { "01234567", "\rX" });
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
    assert_int_equal(splitter.pending(), 3);

    splitter.release_memory(); // keeps what is pending
    Lines rest;
    splitter.feed("ee\n", [&](std::string_view l) { rest.emplace_back(l); });
    assert_int_equal(rest.size(), 1);
    assert_bytes_equal(rest[0], "three");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_newlines),
        cmocka_unit_test(test_final_line),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_utf8_safe_cut),
        cmocka_unit_test(test_zero_copy),
    };
    return cmocka_run_group_tests_name("lines", tests, NULL, NULL);
}
