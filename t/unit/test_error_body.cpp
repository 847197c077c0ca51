// The error body's exact bytes, and log escaping.

#include "unit.hpp"

#include "cligw_error_body.hpp"

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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forbidden),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_escaped_path),
        cmocka_unit_test(test_log_escaping),
    };
    return cmocka_run_group_tests_name("error_body", tests, NULL, NULL);
}
