/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The one strict JSON reader (RFC 8259, no nginx types): the request body
// and the token's header and claims are read with it. Strings keep their
// exact bytes, a "\u0000" included, so that each caller decides what it
// refuses; what a caller may refuse as a whole is flagged on the document.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace cligw {

enum class JsonType : unsigned char {
    null, boolean, number, string, array, object
};

struct JsonMember;

struct JsonValue {
    JsonType type = JsonType::null;
    bool boolean = false;
    double number = 0;               // +-inf beyond a double's range
    std::string text;                // a string's bytes; a number's literal
    std::vector<JsonValue> items;    // an array's elements
    std::vector<JsonMember> members; // an object's, in document order

    // The first member named exactly `name` (bytes, case-sensitive).
    const JsonValue *find(std::string_view name) const;
};

struct JsonMember {
    std::string name;                // unescaped, exact bytes
    JsonValue value;
};

struct JsonDocument {
    JsonValue root;
    const char *error = nullptr;     // why the text is not JSON, or null
    std::size_t at = 0;              // byte offset of that error
    bool duplicate_name = false;     // some object has a name twice
    bool nul = false;                // some string or name holds a NUL
    bool bad_utf8 = false;           // ... or bytes that are not UTF-8
};

// Objects and arrays nest at most this deep (as cJSON did).
constexpr std::size_t json_max_depth = 1000;

// One value with optional whitespace around it; nothing else is JSON:
// no BOM, comments, trailing commas, leading zeros, NaN, or whitespace
// other than JSON's four. Never throws but std::bad_alloc.
JsonDocument json_parse(std::string_view text);

// Compact JSON text of a value: strings escaped, numbers as
// json_number_text() gives them.
std::string json_text(const JsonValue &value);

// A number for people: integers without exponent or fraction, others in
// the shortest form that reads back the same, the literal if not finite.
std::string json_number_text(const JsonValue &number);

} // namespace cligw
