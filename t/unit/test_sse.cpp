// SSE framing and JSON escaping: the exact bytes serde_json + axum send.

#include "unit.hpp"

#include "cligw_sse.hpp"

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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_valid_utf8),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_bound),
    };
    return cmocka_run_group_tests_name("sse", tests, NULL, NULL);
}
