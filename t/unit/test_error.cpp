/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The error body's exact bytes, and log escaping.

#include "unit.hpp"

#include "cligw/error.hpp"

#include <cstdio>

using namespace cligw;

static void test_forbidden(void **)
{
    ErrorBody e;
    e.code = "forbidden";
    e.message = "Admin role required for CLI gateway";
    e.now = 1767225600; // 2026-01-01T00:00:00Z

    assert_bytes_equal(render_error_body(e),
        "{\"code\":\"forbidden\",\"message\":\"Admin role required for CLI "
        "gateway\",\"details\":null,\"error_key\":null,\"path\":null,"
        "\"validation_errors\":[],\"timestamp\":\"2026-01-01T00:00:00Z\","
        "\"trace_id\":null}");
}

static void test_validation(void **)
{
    std::vector<ValidationError> errors = {
        { "args[1]", "must be a string", "invalid_type" },
        { "timeout_secs", "say \"no\"", "invalid_value" },
    };
    ErrorBody e;
    e.code = "validation_error";
    e.message = "Invalid request body";
    e.path = "/api/v1/admin/cli";
    e.trace_id = "0123456789abcdef0123456789abcdef";
    e.validation_errors = &errors;
    e.now = 1795510799; // 2026-11-24T08:59:59Z

    assert_bytes_equal(render_error_body(e),
        "{\"code\":\"validation_error\",\"message\":\"Invalid request body\","
        "\"details\":null,\"error_key\":null,\"path\":\"/api/v1/admin/cli\","
        "\"validation_errors\":[{\"field\":\"args[1]\",\"message\":\"must be "
        "a string\",\"code\":\"invalid_type\"},{\"field\":\"timeout_secs\","
        "\"message\":\"say \\\"no\\\"\",\"code\":\"invalid_value\"}],"
        "\"timestamp\":\"2026-11-24T08:59:59Z\","
        "\"trace_id\":\"0123456789abcdef0123456789abcdef\"}");
}

static void test_escaped_path(void **)
{
    ErrorBody e;
    e.code = "forbidden";
    e.message = "m";
    e.path = "/a\"b\\c\x01";
    e.now = 0;

    std::string body = render_error_body(e);
    assert_true(body.find("\"path\":\"/a\\\"b\\\\c\\u0001\"") != std::string::npos);
    assert_true(body.find("\"timestamp\":\"1970-01-01T00:00:00Z\"") != std::string::npos);

    // every string is escaped, bad UTF-8 replaced; an empty vector is []
    std::vector<ValidationError> none;
    std::vector<ValidationError> odd = { { "args[0]", "x\ny\xff", "c\"" } };
    e.code = "bad_request";
    e.message = "Invalid JSON: \x01\t\"\\/\xc3\xa9\xc3";
    e.path = "/cli?q=\xe2\x82\xac";
    e.trace_id = "t\"1";
    e.validation_errors = &none;
    assert_bytes_equal(render_error_body(e),
        "{\"code\":\"bad_request\",\"message\":\"Invalid JSON: \\u0001\\t\\\"\\\\/"
        "\xc3\xa9\xef\xbf\xbd\",\"details\":null,\"error_key\":null,"
        "\"path\":\"/cli?q=\xe2\x82\xac\",\"validation_errors\":[],"
        "\"timestamp\":\"1970-01-01T00:00:00Z\",\"trace_id\":\"t\\\"1\"}");

    e.validation_errors = &odd;
    e.path = "";
    e.trace_id = "";
    assert_bytes_equal(render_error_body(e),
        "{\"code\":\"bad_request\",\"message\":\"Invalid JSON: \\u0001\\t\\\"\\\\/"
        "\xc3\xa9\xef\xbf\xbd\",\"details\":null,\"error_key\":null,"
        "\"path\":null,\"validation_errors\":[{\"field\":\"args[0]\","
        "\"message\":\"x\\ny\xef\xbf\xbd\",\"code\":\"c\\\"\"}],"
        "\"timestamp\":\"1970-01-01T00:00:00Z\",\"trace_id\":null}");
}

static void test_timestamps(void **)
{
    assert_bytes_equal(rfc3339_utc(0), "1970-01-01T00:00:00Z");
    assert_bytes_equal(rfc3339_utc(1767225600), "2026-01-01T00:00:00Z");
    assert_bytes_equal(rfc3339_utc(1709251199), "2024-02-29T23:59:59Z");
    assert_bytes_equal(rfc3339_utc(951782400), "2000-02-29T00:00:00Z");
    assert_bytes_equal(rfc3339_utc(2147483648), "2038-01-19T03:14:08Z");
    assert_bytes_equal(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    assert_bytes_equal(rfc3339_utc(253402300799), "9999-12-31T23:59:59Z");
}

static void test_log_escaping(void **)
{
    std::string out;
    log_append_escaped(out, "plain text");
    assert_bytes_equal(out, "plain text");

    out.clear();
    log_append_escaped(out, "a\"b\\c\nforged [alert] line\x7f\xc3\xa9");
    assert_bytes_equal(out, "a\\\"b\\\\c\\x0aforged [alert] line\\x7f\\xc3\\xa9");

    assert_bytes_equal(log_format_args({}), "[]");
    assert_bytes_equal(log_format_args({ "agents", "list", "a b" }),
                       "[\"agents\",\"list\",\"a b\"]");
    assert_bytes_equal(log_format_args({ "agents", "list", "a\"b" }),
                       "[\"agents\",\"list\",\"a\\\"b\"]");
    assert_bytes_equal(log_format_args({ "" }), "[\"\"]");
    assert_bytes_equal(log_format_args({ "\\", "\"],[\"" }),
                       "[\"\\\\\",\"\\\"],[\\\"\"]");

    // every byte: only 0x20..0x7e stay, and of those '"' and '\\' escaped
    std::string all;
    for (int c = 0; c < 256; c++) {
        all += static_cast<char>(c);
    }
    out.clear();
    log_append_escaped(out, all);
    std::string expected;
    for (int c = 0; c < 256; c++) {
        char x[8];
        if (c == '"' || c == '\\') {
            snprintf(x, sizeof(x), "\\%c", c);
        } else if (c >= 0x20 && c <= 0x7e) {
            snprintf(x, sizeof(x), "%c", c);
        } else {
            snprintf(x, sizeof(x), "\\x%02x", c);
        }
        expected += x;
    }
    assert_bytes_equal(out, expected);

    // appends
    out = "args=";
    log_append_escaped(out, std::string("a\0b", 3));
    assert_bytes_equal(out, "args=a\\x00b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forbidden),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_escaped_path),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_log_escaping),
    };
    return cmocka_run_group_tests_name("error_body", tests, NULL, NULL);
}
