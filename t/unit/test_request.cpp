/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Request body parsing: every 400 and 422 case, and what is accepted.

#include "unit.hpp"

#include "cligw/request.hpp"

#include <utility>

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
    assert_int_equal(r.request.args.size(), 5);
    assert_bytes_equal(r.request.args[0], "a\"b");
    assert_bytes_equal(r.request.args[1], "tab\there");
    assert_bytes_equal(r.request.args[2], "caf\xc3\xa9");
    assert_bytes_equal(r.request.args[3], "\xf0\x9f\x98\x80");
    assert_bytes_equal(r.request.args[4], "\xc3\xa9");

    // huge timeouts saturate (the caller clamps)
    r = parse(R"({"args": [], "timeout_secs": 1e30})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_true(r.request.timeout_secs == UINT64_MAX);
    r = parse(R"({"args": [], "timeout_secs": 18446744073709551616})");
    assert_true(r.request.timeout_secs == UINT64_MAX);

    // integral numbers in any JSON spelling
    const std::pair<const char *, std::uint64_t> numbers[] = {
        { "7", 7 }, { "-0", 0 }, { "1E2", 100 }, { "1e+2", 100 },
        { "2.0", 2 }, { "250e-1", 25 }, { "600", 600 },
        { "9007199254740992", 9007199254740992ULL },
    };
    for (const auto &n : numbers) {
        r = parse(std::string("{\"args\": [], \"timeout_secs\": ") + n.first
                  + "}");
        assert_int_equal((int) r.status, (int) ParseStatus::ok);
        assert_true(r.request.has_timeout);
        assert_true(r.request.timeout_secs == n.second);
    }

    // an empty context_id is still given; DEL and '/' are plain characters
    r = parse("{\"args\": [\"\x7f/\\/\"], \"context_id\": \"\"}");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_bytes_equal(r.request.args[0], "\x7f//");
    assert_true(r.request.has_context_id);
    assert_bytes_equal(r.request.context_id, "");

    // keys are compared after unescaping, as serde does
    r = parse(R"({"\u0061rgs": ["x"]})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_int_equal(r.request.args.size(), 1);
    assert_bytes_equal(r.request.args[0], "x");

    // a NUL in an unknown field is no one's business
    r = parse(R"({"args": [], "note": "a\u0000b", "x\u0000": 1})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
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

    // what cJSON alone would let through but serde_json refuses
    expect_bad_json(R"({"args": [], "timeout_secs": 01})");
    expect_bad_json(R"({"args": [], "timeout_secs": -01})");
    expect_bad_json(R"({"args": [], "timeout_secs": 1.})");
    expect_bad_json(R"({"args": [], "timeout_secs": 1.e2})");
    expect_bad_json(R"({"args": [], "timeout_secs": 1e})");
    expect_bad_json(R"({"args": [], "timeout_secs": 1e5e})");
    expect_bad_json(R"({"args": [], "timeout_secs": -})");
    expect_bad_json(R"({"args": [], "timeout_secs": +1})");
    expect_bad_json(R"({"args": [], "timeout_secs": .5})");
    expect_bad_json(R"({"args": [], "timeout_secs": 0x10})");
    expect_bad_json(R"({"args": [], "timeout_secs": NaN})");
    expect_bad_json(R"({"args": [], "timeout_secs": Infinity})");
    expect_bad_json(R"({"args": [], "x": [1.2.3]})");
    expect_bad_json("\xef\xbb\xbf{\"args\": []}");            // BOM
    expect_bad_json("{\"args\":\x0b[]}");                      // \v is not space
    expect_bad_json("{\"args\":\x0c[]}");                      // nor \f
    expect_bad_json(std::string("{\"args\":\0[]}", 11));        // nor NUL
    expect_bad_json("{\"args\": []}\x0b");
    expect_bad_json(R"({"args": ["a)");                         // unterminated
    expect_bad_json(R"({"args": ["a\)");                        // ends in escape
    expect_bad_json(R"({"args": ["\x"]})");                     // bad escape
    expect_bad_json(R"({"args": ["\u12"]})");                   // short \u
    expect_bad_json(R"({"args": ["\udc00"]})");                 // lone low half
    expect_bad_json(R"({"args": ["\ud800\u0000"]})");           // half + NUL
    expect_bad_json(R"({"args": [tru]})");
    expect_bad_json(R"({"args": [True]})");
    expect_bad_json(R"({"args": [], })");
    expect_bad_json(R"({args: []})");
    expect_bad_json("{\"args\": [\xc3\xa9]}");                 // bytes outside a string

    // every raw control byte inside a string
    for (int c = 0; c < 0x20; c++) {
        std::string body = "{\"args\": [\"a";
        body += static_cast<char>(c);
        body += "\"]}";
        expect_bad_json(body);
    }

    // the message says why and where, and never echoes the body
    assert_bytes_equal(parse("").message, "Invalid JSON: empty body");
    assert_bytes_equal(parse(" \r\n\t").message, "Invalid JSON: empty body");
    assert_bytes_equal(parse(R"({"args": [], "timeout_secs": 01})").message,
                       "Invalid JSON: malformed number at byte 29");
    assert_bytes_equal(parse("{\"args\": [\"a\nb\"]}").message,
                       "Invalid JSON: control character in a string at byte 12");
    assert_bytes_equal(parse(R"({"args": ["a)").message,
                       "Invalid JSON: unterminated string at byte 12");
    assert_bytes_equal(parse("{\"args\": [\x01]}").message,
                       "Invalid JSON: unexpected character at byte 10");
    assert_bytes_equal(parse(R"({"args": [1,]})").message.substr(0, 34),
                       "Invalid JSON: syntax error at byte");
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
    expect_invalid(R"({"args": [true]})", "args[0]", "invalid_type");
    expect_invalid(R"({"args": [{}]})", "args[0]", "invalid_type");
    expect_invalid(R"({"args": 7})", "args", "invalid_type");
    expect_invalid(R"({"args": ["\u0000x"]})", "args[0]", "invalid_value");
    expect_invalid(R"({"args": ["x\u0000"]})", "args[0]", "invalid_value");

    // bytes that are not UTF-8, by class
    const char *not_utf8[] = {
        "\x80",             // lone continuation
        "a\xbf",
        "\xc0\xaf",         // overlong
        "\xc1\xbf",
        "\xe0\x80\xaf",
        "\xf0\x80\x80\xaf",
        "\xed\xa0\x80",     // surrogate
        "\xf4\x90\x80\x80", // above U+10FFFF
        "\xf5\x80\x80\x80",
        "\xfe", "\xff",
        "\xc3",             // truncated
        "\xe2\x82",
        "\xf0\x9f\x98",
        "\xf0\x9f\x98x",
    };
    for (const char *bad : not_utf8) {
        expect_invalid(std::string("{\"args\": [\"ok\", \"") + bad + "\"]}",
                       "args[1]", "invalid_value");
    }

    // the message tells a NUL from bad UTF-8
    ParseResult nul = parse(R"({"args": ["a\u0000"]})");
    assert_int_equal(nul.errors.size(), 1);
    assert_bytes_equal(nul.errors[0].message, "must not contain NUL");
    ParseResult ff = parse("{\"args\": [\"\xff\xff\xff\xff\xff\xff\"]}");
    assert_int_equal(ff.errors.size(), 1);
    assert_bytes_equal(ff.errors[0].message, "must be valid UTF-8");
    ParseResult both = parse("{\"args\": [\"\xff\\u0000\"]}");
    assert_int_equal(both.errors.size(), 1);
    assert_bytes_equal(both.errors[0].message,
                       "must be valid UTF-8 without NUL");

    // the "\\u0000" text (an escaped backslash) is not a NUL
    ParseResult r = parse(R"({"args": ["\\u0000"]})");
    assert_int_equal((int) r.status, (int) ParseStatus::ok);
    assert_int_equal(r.request.args.size(), 1);
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
    // bytes, not characters: "\u00e9\u00e9" is 4 bytes
    expect_invalid(R"({"args": ["\u00e9\u00e9"]})", "args[0]", "too_long",
                   lim);
    // too many wins over what the elements are
    expect_invalid(R"({"args": [1, 2, 3]})", "args", "too_many", lim);

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
    expect_invalid(R"({"args": [], "timeout_secs": 1e400})", "timeout_secs",
                   "invalid_value");
    expect_invalid(R"({"args": [], "timeout_secs": -1e400})", "timeout_secs",
                   "invalid_value");
    expect_invalid(R"({"args": [], "timeout_secs": 0.000001})", "timeout_secs",
                   "invalid_value");
    expect_invalid(R"({"args": [], "timeout_secs": [5]})", "timeout_secs",
                   "invalid_type");
    expect_invalid(R"({"args": [], "timeout_secs": {}})", "timeout_secs",
                   "invalid_type");
}

static void test_context_id(void **)
{
    expect_invalid(R"({"args": [], "context_id": 7})", "context_id",
                   "invalid_type");
    expect_invalid(R"({"args": [], "context_id": "a\u0000"})", "context_id",
                   "invalid_value");
    expect_invalid(R"({"args": [], "context_id": true})", "context_id",
                   "invalid_type");
    expect_invalid(R"({"args": [], "context_id": ["c"]})", "context_id",
                   "invalid_type");
    expect_invalid(R"({"args": [], "context_id": {}})", "context_id",
                   "invalid_type");
    expect_invalid("{\"args\": [], \"context_id\": \"\xed\xbf\xbf\"}",
                   "context_id", "invalid_value");
    expect_invalid(R"({"args": [], "context_id": "a", "context_id": null})",
                   "context_id", "duplicate");
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
    expect_invalid(R"({"args ": []})", "args", "missing");
    expect_invalid(R"({"args\u0000": []})", "args", "missing");
    expect_invalid("{}", "args", "missing");
    expect_invalid("\"args\"", "body", "invalid_type");
    expect_invalid("true", "body", "invalid_type");
    expect_invalid("[]", "body", "invalid_type");

    // one error per problem, in body order, the request left empty
    r = parse(R"({"context_id": 1, "args": ["a", 2, "b\u0000"],
                  "args": [], "timeout_secs": "x"})");
    assert_int_equal((int) r.status, (int) ParseStatus::invalid);
    assert_bytes_equal(r.message, "Invalid request body");
    assert_int_equal(r.errors.size(), 5);
    const char *want[][2] = {
        { "args", "duplicate" },         { "args[1]", "invalid_type" },
        { "args[2]", "invalid_value" },  { "timeout_secs", "invalid_type" },
        { "context_id", "invalid_type" },
    };
    for (std::size_t i = 0; i < 5; i++) {
        assert_bytes_equal(r.errors[i].field, want[i][0]);
        assert_bytes_equal(r.errors[i].code, want[i][1]);
    }
    assert_true(r.request.args.empty());
    assert_false(r.request.has_timeout);
    assert_false(r.request.has_context_id);
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
    assert_true(is_json_content_type("application/json;charset=utf-8"));
    assert_true(is_json_content_type("APPLICATION/JSON ; charset=UTF-8"));
    assert_true(is_json_content_type("\tapplication/json\t"));
    assert_true(is_json_content_type("application/vnd.api+json"));
    assert_true(is_json_content_type("application/json;"));
    assert_false(is_json_content_type("application/json+xml"));
    assert_false(is_json_content_type("application/"));
    assert_false(is_json_content_type("application"));
    assert_false(is_json_content_type("json"));
    assert_false(is_json_content_type("application/ json"));
    assert_false(is_json_content_type("text/plain; application/json"));
    assert_false(is_json_content_type(std::string_view("application/json\0", 17)));
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
