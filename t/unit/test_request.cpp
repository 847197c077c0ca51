// Request body parsing: every 400 and 422 case, and what is accepted.

#include "unit.hpp"

#include "cligw_request.hpp"

using namespace cligw;

static ParseResult parse(std::string_view body, RequestLimits lim = {})
{
    return parse_cli_request(body, lim);
}

// Exactly one validation error, on `field`, with `code`.
static void expect_invalid(std::string_view body, const char *field,
                           const char *code, RequestLimits lim = {})
{
    ParseResult r = parse(body, lim);
    if (r.status != ParseStatus::invalid || r.errors.size() != 1) {
        print_error("body %.*s: status %d, %zu errors\n", (int) body.size(),
                    body.data(), (int) r.status, r.errors.size());
    }
    assert_int_equal((int) r.status, (int) ParseStatus::invalid);
    assert_int_equal(r.errors.size(), 1);
    assert_bytes_equal(r.errors[0].field, field);
    assert_bytes_equal(r.errors[0].code, code);
    assert_false(r.errors[0].message.empty());
    assert_bytes_equal(r.message, "Invalid request body");
    assert_true(r.request.args.empty());
}

static void expect_bad_json(std::string_view body)
{
    ParseResult r = parse(body);
    if (r.status != ParseStatus::bad_json) {
        print_error("body [%.*s] was not refused as JSON\n", (int) body.size(),
                    body.data());
    }
    assert_int_equal((int) r.status, (int) ParseStatus::bad_json);
    assert_true(r.message.rfind("Invalid JSON", 0) == 0);
}

static void test_accepted(void **)
{
    ParseResult r = parse(R"({"args": ["agents", "list", "--json"],
                              "timeout_secs": 120, "context_id": "ctx-123"})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_int_equal(r.request.args.size(), 3);
    assert_bytes_equal(r.request.args[2], "--json");
    assert_true(r.request.has_timeout);
    assert_int_equal(r.request.timeout_secs, 120);
    assert_true(r.request.has_context_id);
    assert_bytes_equal(r.request.context_id, "ctx-123");

    r = parse(R"({"args": []})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_true(r.request.args.empty());
    assert_false(r.request.has_timeout);
    assert_false(r.request.has_context_id);

    // unknown fields, null context_id, 0, whitespace around the value
    r = parse(" \n{\"x\": {\"y\": [1]}, \"args\": [\"a\"], \"context_id\": null,"
              " \"timeout_secs\": 0}\r\n ");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_true(r.request.has_timeout);
    assert_int_equal(r.request.timeout_secs, 0);
    assert_false(r.request.has_context_id);

    // escapes and UTF-8 in args arrive decoded
    r = parse(R"({"args": ["a\"b", "tab\there", "caf\u00e9", "\ud83d\ude00", "é"]})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_bytes_equal(r.request.args[0], "a\"b");
    assert_bytes_equal(r.request.args[1], "tab\there");
    assert_bytes_equal(r.request.args[2], "caf\xc3\xa9");
    assert_bytes_equal(r.request.args[3], "\xf0\x9f\x98\x80");
    assert_bytes_equal(r.request.args[4], "\xc3\xa9");

    // huge timeouts saturate (the caller clamps)
    r = parse(R"({"args": [], "timeout_secs": 1e30})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_true(r.request.timeout_secs == UINT64_MAX);
}

static void test_bad_json(void **)
{
    expect_bad_json("");
    expect_bad_json("   ");
    expect_bad_json("{");
    expect_bad_json(R"({"args": ["a",]})");
    expect_bad_json(R"({"args": ["a"]} trailing)");
    expect_bad_json(R"({"args": ["a"]}{})");
    expect_bad_json("{'args': []}");
    expect_bad_json("{\"args\": [\"raw\ttab\"]}");  // control byte in string
    expect_bad_json(R"({"args": ["\ud800"]})");     // lone surrogate
    expect_bad_json(std::string(2000, '[') + std::string(2000, ']'));
    expect_bad_json(std::string("{\"args\": [\"a\"]}\0", 16));
}

static void test_args(void **)
{
    expect_invalid(R"({"timeout_secs": 5})", "args", "missing");
    expect_invalid(R"({"args": "echo hi"})", "args", "invalid_type");
    expect_invalid(R"({"args": null})", "args", "invalid_type");
    expect_invalid(R"({"args": {"0": "a"}})", "args", "invalid_type");
    expect_invalid(R"({"args": ["-c", 42]})", "args[1]", "invalid_type");
    expect_invalid(R"({"args": [["nested"]]})", "args[0]", "invalid_type");
    expect_invalid(R"({"args": ["a", null]})", "args[1]", "invalid_type");
    expect_invalid(R"({"args": ["ok", "a\u0000b"]})", "args[1]",
                   "invalid_value");
    expect_invalid(R"({"args": ["\u0000"]})", "args[0]", "invalid_value");
    expect_invalid("{\"args\": [\"\xff\"]}", "args[0]", "invalid_value");
    expect_invalid(R"({"args": [], "args": ["x"]})", "args", "duplicate");

    // the "\\u0000" text (an escaped backslash) is not a NUL
    ParseResult r = parse(R"({"args": ["\\u0000"]})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_bytes_equal(r.request.args[0], "\\u0000");
}

static void test_limits(void **)
{
    RequestLimits lim;
    lim.max_args = 2;
    lim.max_arg_length = 3;

    expect_invalid(R"({"args": ["a", "b", "c"]})", "args", "too_many", lim);
    expect_invalid(R"({"args": ["abcd"]})", "args[0]", "too_long", lim);
    assert_int_equal((int) parse(R"({"args": ["abc", "d"]})", lim).status,
                     (int) ParseStatus::ok);

    lim.max_args = 0; // unlimited
    lim.max_arg_length = 0;
    std::string many = "{\"args\": [";
    for (int i = 0; i < 100000; i++) {
        many += i ? ",\"x\"" : "\"x\"";
    }
    many += "]}";
    ParseResult r = parse(many, lim);
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_int_equal(r.request.args.size(), 100000);
}

static void test_timeout(void **)
{
    expect_invalid(R"({"args": [], "timeout_secs": -1})", "timeout_secs",
                   "invalid_value");
    expect_invalid(R"({"args": [], "timeout_secs": 1.5})", "timeout_secs",
                   "invalid_value");
    expect_invalid(R"({"args": [], "timeout_secs": "10"})", "timeout_secs",
                   "invalid_type");
    expect_invalid(R"({"args": [], "timeout_secs": null})", "timeout_secs",
                   "invalid_type");
    expect_invalid(R"({"args": [], "timeout_secs": true})", "timeout_secs",
                   "invalid_type");
    expect_invalid(R"({"args": [], "timeout_secs": 1, "timeout_secs": 2})",
                   "timeout_secs", "duplicate");
}

static void test_context_id(void **)
{
    expect_invalid(R"({"args": [], "context_id": 7})", "context_id",
                   "invalid_type");
    expect_invalid(R"({"args": [], "context_id": "a\u0000"})", "context_id",
                   "invalid_value");
}

static void test_shape(void **)
{
    expect_invalid(R"(["-c", "echo"])", "body", "invalid_type");
    expect_invalid("42", "body", "invalid_type");
    expect_invalid("null", "body", "invalid_type");

    // every error is reported
    ParseResult r = parse(R"({"args": [1, 2], "timeout_secs": -3})");
    assert_int_equal((int) r.status, (int) ParseStatus::invalid);
    assert_int_equal(r.errors.size(), 3);
    assert_bytes_equal(r.errors[0].field, "args[0]");
    assert_bytes_equal(r.errors[1].field, "args[1]");
    assert_bytes_equal(r.errors[2].field, "timeout_secs");

    // keys are case-sensitive
    expect_invalid(R"({"Args": []})", "args", "missing");
}

static void test_content_type(void **)
{
    assert_true(is_json_content_type("application/json"));
    assert_true(is_json_content_type("application/json; charset=utf-8"));
    assert_true(is_json_content_type("Application/JSON"));
    assert_true(is_json_content_type(" application/json "));
    assert_true(is_json_content_type("application/problem+json"));
    assert_false(is_json_content_type(""));
    assert_false(is_json_content_type("text/json"));
    assert_false(is_json_content_type("application/jsonx"));
    assert_false(is_json_content_type("application/+json"));
    assert_false(is_json_content_type("application/x-www-form-urlencoded"));
    assert_false(is_json_content_type("multipart/form-data; a=application/json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_context_id),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_content_type),
    };
    return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
