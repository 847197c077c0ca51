/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// SSE framing and JSON escaping: the exact bytes serde_json + axum send.

#include "unit.hpp"

#include "cligw/sse.hpp"
#include "probes.hpp"

using namespace cligw;

static std::string esc(std::string_view s)
{
    std::string out;
    json_append_escaped(out, s);
    return out;
}

static std::string line(StreamKind k, std::string_view s)
{
    std::string out;
    sse_append_line(out, k, s);
    return out;
}

static void test_events(void **)
{
    std::string out;
    sse_append_started(out, 4242);
    assert_bytes_equal(out, "event: cli\ndata: {\"type\":\"started\",\"pid\":4242}\n\n");

    assert_bytes_equal(line(StreamKind::out, "first line"),
        "event: cli\ndata: {\"type\":\"stdout\",\"data\":\"first line\\n\"}\n\n");
    assert_bytes_equal(line(StreamKind::err, "warning: something"),
        "event: cli\ndata: {\"type\":\"stderr\",\"data\":\"warning: something\\n\"}\n\n");
    assert_bytes_equal(line(StreamKind::out, ""),
        "event: cli\ndata: {\"type\":\"stdout\",\"data\":\"\\n\"}\n\n");

    out.clear();
    sse_append_error(out, "Timeout after 5s");
    assert_bytes_equal(out, "event: cli\ndata: {\"type\":\"error\",\"message\":\"Timeout after 5s\"}\n\n");

    out.clear();
    sse_append_exit_code(out, -1);
    sse_append_exit_code(out, 0);
    assert_bytes_equal(out,
        "event: cli\ndata: {\"type\":\"exit_code\",\"code\":-1}\n\n"
        "event: cli\ndata: {\"type\":\"exit_code\",\"code\":0}\n\n");

    assert_bytes_equal(std::string(sse_keepalive_frame), ":\n\n");

    out.clear();
    sse_append_started(out, 0);
    sse_append_exit_code(out, 255);
    sse_append_exit_code(out, 1);
    assert_bytes_equal(out,
        "event: cli\ndata: {\"type\":\"started\",\"pid\":0}\n\n"
        "event: cli\ndata: {\"type\":\"exit_code\",\"code\":255}\n\n"
        "event: cli\ndata: {\"type\":\"exit_code\",\"code\":1}\n\n");

    // events append: what is in `out` stays
    out = "keep";
    sse_append_line(out, StreamKind::err, "a\tb \"q\" \\ \r");
    assert_bytes_equal(out, "keepevent: cli\ndata: {\"type\":\"stderr\",\"data\":"
                            "\"a\\tb \\\"q\\\" \\\\ \\r\\n\"}\n\n");

    out.clear();
    sse_append_error(out, "No such file or directory (os error 2)\n\"x\"");
    assert_bytes_equal(out, "event: cli\ndata: {\"type\":\"error\",\"message\":"
                            "\"No such file or directory (os error 2)\\n\\\"x\\\"\"}\n\n");
}

static void test_escaping(void **)
{
    assert_bytes_equal(esc("say \"hi\""), "say \\\"hi\\\"");
    assert_bytes_equal(esc("C:\\path\\"), "C:\\\\path\\\\");
    assert_bytes_equal(esc("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
    assert_bytes_equal(esc(std::string("\x00\x01\x1f\x1b", 4)),
                       "\\u0000\\u0001\\u001f\\u001b");
    assert_bytes_equal(esc("\x7f / <script>"), "\x7f / <script>");
    assert_bytes_equal(esc(""), "");
    assert_bytes_equal(esc("\"\"\\\\"), "\\\"\\\"\\\\\\\\");
    assert_bytes_equal(esc("'`~{}&"), "'`~{}&");

    // every control byte: the five short forms, the rest \u00xx lowercase
    static const char *const controls[0x20] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005",
        "\\u0006", "\\u0007", "\\b",     "\\t",     "\\n",     "\\u000b",
        "\\f",     "\\r",     "\\u000e", "\\u000f", "\\u0010", "\\u0011",
        "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d",
        "\\u001e", "\\u001f",
    };
    for (int c = 0; c < 0x20; c++) {
        std::string in = "x";
        in += static_cast<char>(c);
        in += "y";
        assert_bytes_equal(esc(in), std::string("x") + controls[c] + "y");
    }
    // and every other ASCII byte as is
    for (int c = 0x20; c < 0x80; c++) {
        if (c != '"' && c != '\\') {
            assert_bytes_equal(esc(std::string(1, static_cast<char>(c))),
                               std::string(1, static_cast<char>(c)));
        }
    }
    // an ANSI colour sequence, as programs print
    assert_bytes_equal(esc("\x1b[31mred\x1b[0m"),
                       "\\u001b[31mred\\u001b[0m");
}

static void test_valid_utf8(void **)
{
    assert_bytes_equal(esc("caf\xc3\xa9"), "caf\xc3\xa9");             // 2 bytes
    assert_bytes_equal(esc("\xe2\x82\xac"), "\xe2\x82\xac");           // 3 bytes
    assert_bytes_equal(esc("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");   // 4 bytes
    assert_bytes_equal(esc("\xef\xbf\xbf\xf4\x8f\xbf\xbf"),            // edges
                       "\xef\xbf\xbf\xf4\x8f\xbf\xbf");
    assert_bytes_equal(esc("\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80"),
                       "\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80");
    // the last code point of each length, the edges of the surrogate gap,
    // U+2028 (serde does not escape it), a BOM
    assert_bytes_equal(esc("\xdf\xbf\xed\x9f\xbf\xee\x80\x80\xe2\x80\xa8\xef\xbb\xbf"),
                       "\xdf\xbf\xed\x9f\xbf\xee\x80\x80\xe2\x80\xa8\xef\xbb\xbf");
    // mixed with escapes
    assert_bytes_equal(esc("\xc3\xa9\"\xe2\x82\xac\n\xf0\x9f\x98\x80\\"),
                       "\xc3\xa9\\\"\xe2\x82\xac\\n\xf0\x9f\x98\x80\\\\");
}

#define FFFD "\xef\xbf\xbd"

static void test_invalid_utf8(void **)
{
    // one U+FFFD per maximal subpart, as String::from_utf8_lossy
    assert_bytes_equal(esc("a\xff" "b"), "a" FFFD "b");                // never valid
    assert_bytes_equal(esc("\x80\xbf"), FFFD FFFD);                    // lone continuations
    assert_bytes_equal(esc("\xc0\xaf"), FFFD FFFD);                    // overlong lead
    assert_bytes_equal(esc("\xe0\x80\xaf"), FFFD FFFD FFFD);           // overlong 3
    assert_bytes_equal(esc("\xed\xa0\x80"), FFFD FFFD FFFD);           // surrogate
    assert_bytes_equal(esc("\xf4\x90\x80\x80"), FFFD FFFD FFFD FFFD);  // > U+10FFFF
    assert_bytes_equal(esc("\xf5\x80"), FFFD FFFD);
    assert_bytes_equal(esc("\xf0\x9f\x98"), FFFD);                     // truncated at end
    assert_bytes_equal(esc("\xf0\x9f\x98" "x"), FFFD "x");             // truncated inside
    assert_bytes_equal(esc("\xe2\x82" "\xe2\x82\xac"), FFFD "\xe2\x82\xac");
    assert_bytes_equal(esc("\xc3"), FFFD);
    assert_bytes_equal(esc("\xc3\"\xc3"), FFFD "\\\"" FFFD);           // escape after

    // lone continuation bytes, each on its own
    assert_bytes_equal(esc("\x80"), FFFD);
    assert_bytes_equal(esc("\xbf\xbf\xbf\xbf\xbf"), FFFD FFFD FFFD FFFD FFFD);
    assert_bytes_equal(esc("\xe2\x82\xac\xac"), "\xe2\x82\xac" FFFD);
    // bytes that never start a sequence
    assert_bytes_equal(esc("\xc0"), FFFD);
    assert_bytes_equal(esc("\xc1\xbf"), FFFD FFFD);
    for (int c = 0xf5; c <= 0xff; c++) {
        std::string in(1, static_cast<char>(c));
        assert_bytes_equal(esc(in + "\x80" "a"), FFFD FFFD "a");
    }
    // overlongs: the lead is invalid with that second byte
    assert_bytes_equal(esc("\xe0\x9f\xbf"), FFFD FFFD FFFD);
    assert_bytes_equal(esc("\xf0\x80\x80\x80"), FFFD FFFD FFFD FFFD);
    assert_bytes_equal(esc("\xf0\x8f\xbf\xbf"), FFFD FFFD FFFD FFFD);
    // surrogates, low and high
    assert_bytes_equal(esc("\xed\xbf\xbf"), FFFD FFFD FFFD);
    assert_bytes_equal(esc("\xed\xa0\x80\xed\xb0\x80"),          // a CESU pair
                       FFFD FFFD FFFD FFFD FFFD FFFD);
    // above U+10FFFF
    assert_bytes_equal(esc("\xf4\xbf\xbf\xbf"), FFFD FFFD FFFD FFFD);
    // truncated sequences: one U+FFFD for the valid prefix
    assert_bytes_equal(esc("\xe2\x82"), FFFD);
    assert_bytes_equal(esc("\xe0\xa0"), FFFD);
    assert_bytes_equal(esc("\xf0\x9f"), FFFD);
    assert_bytes_equal(esc("\xf4\x8f\xbf"), FFFD);
    assert_bytes_equal(esc("\xf0"), FFFD);
    assert_bytes_equal(esc("\xf0\x9f\xe2\x82\xac"), FFFD "\xe2\x82\xac");
    assert_bytes_equal(esc("\xc3\xc3\xa9"), FFFD "\xc3\xa9");
    assert_bytes_equal(esc("\xe2\x82\n"), FFFD "\\n");
    assert_bytes_equal(esc(std::string("\xf0\x9f\x98\0", 4)), FFFD "\\u0000");
    // in an event
    std::string out;
    sse_append_line(out, StreamKind::out, "\xff\xfe ok");
    assert_bytes_equal(out, "event: cli\ndata: {\"type\":\"stdout\",\"data\":\""
                            FFFD FFFD " ok\\n\"}\n\n");
}

static void test_bound(void **)
{
    std::string worst(100, '\x01');
    std::string out;
    sse_append_line(out, StreamKind::err, worst);
    assert_true(out.size() <= sse_line_size_bound(worst.size()));

    std::string bad(100, '\xff'); // 1 byte -> 3 bytes
    out.clear();
    sse_append_line(out, StreamKind::out, bad);
    assert_true(out.size() <= sse_line_size_bound(bad.size()));

    out.clear();
    sse_append_line(out, StreamKind::out, "");
    assert_true(out.size() <= sse_line_size_bound(0));

    // a long plain line is copied through whole
    std::string plain(100000, 'x');
    plain[50000] = '\xc3';
    plain[50001] = '\xa9';
    assert_bytes_equal(esc(plain), plain);
}

// The events of sse_append_line, one line at a time, as the splitter hands
// them: split at "\n", one "\r" before it dropped.
static std::string line_by_line(StreamKind k, std::string_view lines)
{
    std::string out;
    while (!lines.empty()) {
        std::size_t nl = lines.find('\n');
        std::string_view l = lines.substr(0, nl);
        if (!l.empty() && l.back() == '\r') {
            l.remove_suffix(1);
        }
        sse_append_line(out, k, l);
        lines.remove_prefix(nl + 1);
    }
    return out;
}

static void test_lines_in_one_pass(void **)
{
    const std::string_view cases[] = {
        "a\n",
        "\n",
        "\n\n\n",
        "one\ntwo\nthree\n",
        "crlf\r\nmixed\nend\r\n",
        "\r\n\r\r\n\r\n",
        "a\rb\r\n",
        "tab\tquote\"back\\slash\x01\x1f\n",
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\n",
        "cut \xE2\x82\nnext\n",              // a sequence cut by the line end
        "\xE2\n\xF0\x9F\r\n",
        "\x80\xBF\xC0\xC1\xF5\xFF\n",
        "surrogate \xED\xA0\x80 overlong \xE0\x80\xAF\n",
        std::string_view("nul \0 inside\n", 13),
        "\x7f del\n",
    };

    for (std::string_view c : cases) {
        for (StreamKind k : { StreamKind::out, StreamKind::err }) {
            std::string fused;
            sse_append_lines(fused, k, c);
            assert_bytes_equal(fused, line_by_line(k, c));
        }
    }

    std::string none;
    sse_append_lines(none, StreamKind::out, "");
    assert_bytes_equal(none, "");
}

// The word-at-a-time scan finds the first byte that is not plain, as the
// byte table says, wherever it lies and whatever follows it.
static std::size_t first_special_bytewise(const char *p)
{
    for (std::size_t i = 0; i < 8; i++) {
        if (detail::byte_class[static_cast<unsigned char>(p[i])]
            != detail::plain)
        {
            return i;
        }
    }
    return 8;
}

static void test_word_scan(void **)
{
    const unsigned char after[] = { 'a', 0x00, 0x01, 0x1f, 0x20, '"', '\\',
                                    0x7f, 0x80, 0xff };

    for (int c = 0; c < 256; c++) {
        for (std::size_t at = 0; at < 8; at++) {
            for (unsigned char next : after) {
                char w[8];
                std::memset(w, 'a', 8);
                w[at] = static_cast<char>(c);
                if (at + 1 < 8) {
                    w[at + 1] = static_cast<char>(next);
                }
                assert_int_equal(detail::first_special_of_8(w),
                                 first_special_bytewise(w));
            }
        }
    }

    // random words, most bytes near the limits the tests use
    const unsigned char near[] = { 0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23,
                                   0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0x81,
                                   0xa1, 0xdf, 0xfe, 0xff, 'a', 'z' };
    std::uint64_t seed = 88172645463325252ULL;

    for (int n = 0; n < 200000; n++) {
        char w[8];
        for (char &b : w) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            b = static_cast<char>(seed % 3 == 0 ? seed >> 8
                                  : near[(seed >> 8) % sizeof(near)]);
        }
        assert_int_equal(detail::first_special_of_8(w),
                         first_special_bytewise(w));
    }

    // a long line: each special byte found at every offset of a word
    for (std::size_t at = 0; at < 40; at++) {
        for (char c : { '"', '\\', '\x01', '\x7f' }) {
            std::string plain(40, 'x');
            plain[at] = c;
            std::string expect = plain.substr(0, at)
                                 + (c == '"'    ? "\\\""
                                    : c == '\\' ? "\\\\"
                                    : c == 1    ? "\\u0001"
                                                : "\x7f")
                                 + plain.substr(at + 1);
            assert_bytes_equal(esc(plain), expect);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_valid_utf8),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_lines_in_one_pass),
        cmocka_unit_test(test_word_scan),
    };
    return cmocka_run_group_tests_name("sse", tests, NULL, NULL);
}
