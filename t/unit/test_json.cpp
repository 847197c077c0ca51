/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The strict JSON reader: exact bytes, names given twice at any depth,
// numbers past a double, what is not JSON and where.

#include "unit.hpp"

#include "cligw/json.hpp"

using namespace cligw;

static JsonDocument ok(std::string_view text)
{
    JsonDocument d = json_parse(text);
    if (d.error) {
        print_error("[%.*s]: %s at %zu\n", (int) text.size(), text.data(),
                    d.error, d.at);
    }
    assert_null(d.error);
    return d;
}

static void expect_error(std::string_view text, const char *error,
                         std::size_t at)
{
    JsonDocument d = json_parse(text);
    if (d.error == nullptr) {
        print_error("[%.*s] was taken\n", (int) text.size(), text.data());
    }
    assert_non_null(d.error);
    assert_bytes_equal(d.error, error);
    assert_int_equal(d.at, at);
}

static void test_values(void **)
{
    JsonDocument d = ok(R"( {"s":"a\"b\\\/\b\f\n\r\t\u00e9\ud83d\ude00",)"
                        R"("n":-1.5e2,"t":true,"f":false,"z":null,"a":[1,[]],)"
                        R"("o":{}} )");
    const JsonValue &r = d.root;
    assert_int_equal((int) r.type, (int) JsonType::object);
    assert_int_equal(r.members.size(), 7);
    assert_bytes_equal(r.find("s")->text,
                       "a\"b\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    assert_true(r.find("n")->number == -150.0);
    assert_bytes_equal(r.find("n")->text, "-1.5e2");
    assert_true(r.find("t")->boolean);
    assert_false(r.find("f")->boolean);
    assert_int_equal((int) r.find("z")->type, (int) JsonType::null);
    assert_int_equal(r.find("a")->items.size(), 2);
    assert_int_equal((int) r.find("o")->type, (int) JsonType::object);
    assert_false(d.duplicate_name || d.nul || d.bad_utf8);

    // lookups are exact: no case folding, no prefix, NUL is a byte
    d = ok(R"({"User":1,"user\u0000x":2})");
    assert_null(d.root.find("user"));
    assert_null(d.root.find("USER"));
    assert_non_null(d.root.find("User"));
    assert_null(d.root.find(std::string_view("user", 4)));
    assert_non_null(d.root.find(std::string_view("user\0x", 6)));

    // strings keep every byte, a NUL and bad UTF-8 included, and say so
    d = ok(R"(["a\u0000b"])");
    assert_int_equal(d.root.items.size(), 1);
    assert_int_equal(d.root.items[0].text.size(), 3);
    assert_true(d.root.items[0].text[1] == '\0');
    assert_true(d.nul);
    assert_false(d.bad_utf8);
    d = ok("[\"\xff\xfe\"]");
    assert_int_equal(d.root.items.size(), 1);
    assert_bytes_equal(d.root.items[0].text, "\xff\xfe");
    assert_true(d.bad_utf8);
    assert_false(d.nul);
    d = ok("{\"\xc0\xaf\":1}");
    assert_true(d.bad_utf8);
    d = ok(R"(["\\u0000"])");
    assert_false(d.nul);

    // escapes decode to whole sequences: a raw lead byte stays bad
    d = ok("[\"\xc3\\u00a9\"]");
    assert_true(d.bad_utf8);
    d = ok("[\"\xc3\xa9\\u00e9\"]");
    assert_false(d.bad_utf8);
}

static void test_duplicates(void **)
{
    const char *twice[] = {
        R"({"a":1,"a":1})",
        R"({"a":1,"b":2,"a":3})",
        R"({"a":1,"\u0061":2})",
        R"({"x":{"y":[{"k":1,"k":2}]}})",
        R"([[{"":1,"":2}]])",
        R"({"a\u0000":1,"a\u0000":2})",
        R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":0,"e":1})",
    };
    for (const char *t : twice) {
        JsonDocument d = ok(t);
        if (!d.duplicate_name) {
            print_error("%s: no duplicate seen\n", t);
        }
        assert_true(d.duplicate_name);
    }

    const char *once[] = {
        R"({"a":1,"A":1})",
        R"({"a":{"a":{"a":1}}})",
        R"([{"a":1},{"a":2}])",
        R"({"a":1,"a\u0000":2,"a ":3})",
        R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":0,"E":1})",
    };
    for (const char *t : once) {
        assert_false(ok(t).duplicate_name);
    }

    // both members are kept, in order; find() gives the first
    JsonDocument d = ok(R"({"k":1,"k":2})");
    assert_int_equal(d.root.members.size(), 2);
    assert_true(d.root.find("k")->number == 1);

    // many members cost n log n: 100,000 distinct names, then one twice
    std::string big = "{";
    for (int i = 0; i < 100000; i++) {
        big += (i ? ",\"" : "\"") + std::to_string(i) + "\":0";
    }
    assert_false(ok(big + "}").duplicate_name);
    assert_true(ok(big + ",\"77\":1}").duplicate_name);
}

static void test_numbers(void **)
{
    struct { const char *text; double value; } numbers[] = {
        { "0", 0 }, { "-0", 0 }, { "7", 7 }, { "1E2", 100 }, { "1e+2", 100 },
        { "250e-1", 25 }, { "0.5", 0.5 }, { "-12.25e1", -122.5 },
        { "1e-400", 0 }, { "-1e-400", 0 },
        { "0.0000000000000000000000000000001e-400", 0 },
    };
    for (const auto &n : numbers) {
        JsonDocument d = ok(n.text);
        assert_int_equal((int) d.root.type, (int) JsonType::number);
        assert_true(d.root.number == n.value);
        assert_bytes_equal(d.root.text, n.text);
    }

    // past a double: infinite, with its sign, whatever the spelling
    const char *huge[] = { "1e400", "1e99999999999", "100000e304",
                           "0.00001e400",
                           "1797693134862315807937289714053034150799341327"
                           "0000000000000000000000000000000000000000000000"
                           "0000000000000000000000000000000000000000000000"
                           "0000000000000000000000000000000000000000000000"
                           "0000000000000000000000000000000000000000000000"
                           "0000000000000000000000000000000000000000000000"
                           "0000000000000000000000000000000000000000000000" };
    for (const char *h : huge) {
        JsonDocument d = ok(h);
        assert_true(d.root.number > 1e308 && d.root.number * 0.5 == d.root.number);
        d = ok(std::string("-") + h);
        assert_true(d.root.number < -1e308);
    }
    assert_true(ok("1e308").root.number == 1e308);

    // as text: integers plain, others shortest, non-finite as written
    assert_bytes_equal(json_number_text(ok("1e3").root), "1000");
    assert_bytes_equal(json_number_text(ok("2.0").root), "2");
    assert_bytes_equal(json_number_text(ok("0.1").root), "0.1");
    assert_bytes_equal(json_number_text(ok("1e300").root), "1e+300");
    assert_bytes_equal(json_number_text(ok("-1E400").root), "-1E400");
}

static void test_not_json(void **)
{
    expect_error("", "syntax error", 0);
    expect_error("   ", "syntax error", 3);
    expect_error("{", "syntax error", 1);
    expect_error("[1,]", "syntax error", 3);
    expect_error("[1 2]", "syntax error", 3);
    expect_error("{\"a\" 1}", "syntax error", 5);
    expect_error("{\"a\":1,}", "syntax error", 7);
    expect_error("{a:1}", "syntax error", 1);
    expect_error("[tru]", "syntax error", 1);
    expect_error("[truex]", "syntax error", 5);
    expect_error("[True]", "unexpected character", 1);
    expect_error("{'a':1}", "unexpected character", 1);
    expect_error("\xef\xbb\xbf[]", "unexpected character", 0);
    expect_error("[]\x0b", "unexpected character", 2);
    expect_error(std::string_view("[]\0", 3), "unexpected character", 2);
    expect_error("[]]", "syntax error", 2);
    expect_error("[01]", "malformed number", 1);
    expect_error("[1.]", "malformed number", 1);
    expect_error("[-]", "malformed number", 1);
    expect_error("[1e5e]", "malformed number", 1);
    expect_error("[0x10]", "malformed number", 1);
    expect_error("[+1]", "unexpected character", 1);
    expect_error("[.5]", "unexpected character", 1);
    expect_error("[\"a\tb\"]", "control character in a string", 3);
    expect_error("[\"a", "unterminated string", 3);
    expect_error("[\"a\\", "unterminated string", 4);
    expect_error("[\"\\u12", "unterminated string", 6);
    expect_error("[\"\\x\"]", "syntax error", 2);
    expect_error("[\"\\u12\"]", "syntax error", 6);
    expect_error("[\"\\ud800\"]", "syntax error", 2);
    expect_error("[\"\\udc00\"]", "syntax error", 2);
    expect_error("[\"\\ud800\\u0041\"]", "syntax error", 2);
    expect_error("[\"\\ud800\\u0000\"]", "syntax error", 2);

    // nesting: 1000 levels are JSON, 1001 are refused
    assert_null(json_parse(std::string(1000, '[')
                           + std::string(1000, ']')).error);
    expect_error(std::string(1001, '[') + std::string(1001, ']'),
                 "syntax error", 1000);
    std::string objects;
    for (int i = 0; i < 1001; i++) {
        objects += "{\"a\":";
    }
    expect_error(objects + "1" + std::string(1001, '}'), "syntax error",
                 1000 * 5);
    expect_error(std::string(100000, '['), "syntax error", 1000);
}

static void test_text(void **)
{
    const char *round[] = {
        R"({"a":[1,2.5,"x\"\\\n\u0001",true,false,null],"b":{}})",
        R"([])",
        R"("caf\u00e9")",
    };
    const char *want[] = {
        R"({"a":[1,2.5,"x\"\\\n\u0001",true,false,null],"b":{}})",
        R"([])",
        "\"caf\xc3\xa9\"",
    };
    for (std::size_t i = 0; i < 3; i++) {
        assert_bytes_equal(json_text(ok(round[i]).root), want[i]);
    }
    // a NUL is escaped, never cut at
    assert_bytes_equal(json_text(ok(R"(["a\u0000b"])").root),
                       R"(["a\u0000b"])");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_not_json),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
