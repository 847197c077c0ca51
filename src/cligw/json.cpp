/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The strict JSON reader: recursive descent over the bytes, depth-limited.

#include "cligw/json.hpp"

#include "cligw/json_writer.hpp"
#include "cligw/utf8.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace cligw {

namespace {

bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

// Bytes some JSON text has outside strings. Stopping on one of these is a
// "syntax error"; on any other byte an "unexpected character".
bool in_alphabet(char c)
{
    return is_json_space(c) || (c >= 'a' && c <= 'z') || is_digit(c)
           || c == '-' || c == '"'
           || std::string_view("{}[]:,").find(c) != std::string_view::npos;
}

// Length of the number at s[i] by RFC 8259's grammar, 0 if malformed:
// "01", "1.", ".5", "1e" are not numbers, and only a separator may follow
// one ("1.2.3", "1e5e" and "0x10" are malformed too).
std::size_t number_length(std::string_view s, std::size_t i)
{
    std::size_t start = i;
    auto digit = [&] { return i < s.size() && is_digit(s[i]); };
    auto digits = [&] {
        std::size_t from = i;
        while (digit()) i++;
        return i > from;
    };

    if (i < s.size() && s[i] == '-') i++;
    if (!digit()) return 0;
    if (s[i] == '0') i++; else digits();
    if (i < s.size() && s[i] == '.') {
        i++;
        if (!digits()) return 0;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) i++;
        if (!digits()) return 0;
    }
    if (i < s.size() && !is_json_space(s[i]) && s[i] != ',' && s[i] != ']'
        && s[i] != '}')
    {
        return 0;
    }
    return i - start;
}

// A well-formed number literal as a double; past a double's range the
// decimal exponent of its leading digit tells infinity from zero.
double literal_value(std::string_view lit)
{
    double d = 0;
    auto [end, ec] = std::from_chars(lit.data(), lit.data() + lit.size(), d);
    (void) end;
    if (ec != std::errc::result_out_of_range) {
        return d;
    }

    bool negative = lit.front() == '-';
    long long int_digits = 0, leading = -1, k = 0, exponent = 0;
    bool in_fraction = false;
    std::size_t i = negative;

    for (; i < lit.size() && lit[i] != 'e' && lit[i] != 'E'; i++) {
        if (lit[i] == '.') {
            in_fraction = true;
            continue;
        }
        if (leading < 0 && lit[i] != '0') {
            leading = k;
        }
        int_digits += !in_fraction;
        k++;
    }
    if (i < lit.size()) {
        bool down = lit[++i] == '-';
        i += lit[i] == '-' || lit[i] == '+';
        for (; i < lit.size(); i++) {
            exponent = std::min(exponent * 10 + (lit[i] - '0'), 1000000LL);
        }
        exponent = down ? -exponent : exponent;
    }

    double magnitude = leading >= 0 && int_digits - 1 - leading + exponent > 0
                           ? std::numeric_limits<double>::infinity() : 0.0;
    return negative ? -magnitude : magnitude;
}

void append_utf8(std::string &out, unsigned int cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Names an object has twice; sorted past a few, so that a body of many
// members costs n log n, not n squared.
bool has_duplicate_name(const std::vector<JsonMember> &members)
{
    std::size_t n = members.size();

    if (n <= 8) {
        for (std::size_t i = 1; i < n; i++) {
            for (std::size_t k = 0; k < i; k++) {
                if (members[i].name == members[k].name) {
                    return true;
                }
            }
        }
        return false;
    }

    std::vector<std::string_view> names;
    names.reserve(n);
    for (const JsonMember &m : members) {
        names.emplace_back(m.name);
    }
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) != names.end();
}

class Reader {
public:
    Reader(std::string_view text, JsonDocument &doc) : s_(text), doc_(doc) {}

    void document()
    {
        skip_space();
        if (value(doc_.root, 0)) {
            skip_space();
            if (i_ < s_.size()) {
                stop();
            }
        }
    }

private:
    std::string_view s_;
    JsonDocument &doc_;
    std::size_t i_ = 0;

    bool fail(const char *why, std::size_t at)
    {
        doc_.error = why;
        doc_.at = at;
        return false;
    }

    // The byte at i_ is not what the grammar wants there.
    bool stop()
    {
        return fail(i_ < s_.size() && !in_alphabet(s_[i_])
                        ? "unexpected character" : "syntax error", i_);
    }

    void skip_space()
    {
        while (i_ < s_.size() && is_json_space(s_[i_])) {
            i_++;
        }
    }

    bool next_is(char c)
    {
        if (i_ < s_.size() && s_[i_] == c) {
            i_++;
            return true;
        }
        return false;
    }

    bool value(JsonValue &v, std::size_t depth)
    {
        if (i_ == s_.size()) {
            return stop();
        }

        char c = s_[i_];

        switch (c) {
        case '{':
            return object(v, depth);
        case '[':
            return array(v, depth);
        case '"':
            v.type = JsonType::string;
            return string(v.text);
        case 't':
            v.type = JsonType::boolean;
            v.boolean = true;
            return literal("true");
        case 'f':
            v.type = JsonType::boolean;
            return literal("false");
        case 'n':
            return literal("null");
        default:
            if (c == '-' || is_digit(c)) {
                return number(v);
            }
            return stop();
        }
    }

    bool literal(std::string_view word)
    {
        if (s_.substr(i_, word.size()) != word) {
            return stop();
        }
        i_ += word.size();
        return true;
    }

    bool number(JsonValue &v)
    {
        std::size_t n = number_length(s_, i_);
        if (n == 0) {
            return fail("malformed number", i_);
        }
        v.type = JsonType::number;
        v.text.assign(s_.substr(i_, n));
        v.number = literal_value(v.text);
        i_ += n;
        return true;
    }

    // An array or an object at its opening bracket, up to `close`;
    // `element` reads one element.
    template <class Element>
    bool list(JsonValue &v, std::size_t depth, JsonType type, char close,
              Element element)
    {
        if (depth >= json_max_depth) {
            return fail("syntax error", i_);
        }
        v.type = type;
        i_++;
        skip_space();
        if (next_is(close)) {
            return true;
        }

        for ( ;; ) {
            if (!element()) {
                return false;
            }
            skip_space();
            if (next_is(close)) {
                return true;
            }
            if (!next_is(',')) {
                return stop();
            }
            skip_space();
        }
    }

    bool array(JsonValue &v, std::size_t depth)
    {
        return list(v, depth, JsonType::array, ']', [&] {
            return value(v.items.emplace_back(), depth + 1);
        });
    }

    bool object(JsonValue &v, std::size_t depth)
    {
        bool read = list(v, depth, JsonType::object, '}', [&] {
            if (i_ == s_.size() || s_[i_] != '"') {
                return stop();
            }
            JsonMember &m = v.members.emplace_back();
            if (!string(m.name)) {
                return false;
            }
            skip_space();
            if (!next_is(':')) {
                return stop();
            }
            skip_space();
            return value(m.value, depth + 1);
        });

        if (read && !doc_.duplicate_name) {
            doc_.duplicate_name = has_duplicate_name(v.members);
        }
        return read;
    }

    // A string at the opening quote, unescaped into `out`.
    bool string(std::string &out)
    {
        bool high = false;
        std::size_t run = ++i_;

        for ( ;; ) {
            if (i_ == s_.size()) {
                return fail("unterminated string", i_);
            }

            auto c = static_cast<unsigned char>(s_[i_]);

            if (c == '"') {
                out.append(s_.substr(run, i_ - run));
                i_++;
                break;
            }
            if (c < 0x20) {
                return fail("control character in a string", i_);
            }
            if (c == '\\') {
                out.append(s_.substr(run, i_ - run));
                if (!escape(out)) {
                    return false;
                }
                run = i_;
                continue;
            }
            high = high || c >= 0x80;
            i_++;
        }

        // escapes decode to whole sequences: only raw bytes can be bad
        if (high && !utf8_valid(out)) {
            doc_.bad_utf8 = true;
        }
        return true;
    }

    bool escape(std::string &out)
    {
        std::size_t at = i_;

        if (s_.size() - i_ < 2) {
            return fail("unterminated string", s_.size());
        }

        char e = s_[i_ + 1];
        i_ += 2;

        switch (e) {
        case '"':  out += '"';  return true;
        case '\\': out += '\\'; return true;
        case '/':  out += '/';  return true;
        case 'b':  out += '\b'; return true;
        case 'f':  out += '\f'; return true;
        case 'n':  out += '\n'; return true;
        case 'r':  out += '\r'; return true;
        case 't':  out += '\t'; return true;
        case 'u':  break;
        default:   return fail("syntax error", at);
        }

        unsigned int cp, low;
        if (!hex4(cp)) {
            return false;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("syntax error", at);   // a low half alone
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (s_.substr(i_, 2) != "\\u") {
                return fail("syntax error", at);
            }
            i_ += 2;
            if (!hex4(low)) {
                return false;
            }
            if (low < 0xDC00 || low > 0xDFFF) {
                return fail("syntax error", at);
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }

        doc_.nul = doc_.nul || cp == 0;
        append_utf8(out, cp);
        return true;
    }

    bool hex4(unsigned int &cp)
    {
        cp = 0;
        for (int k = 0; k < 4; k++, i_++) {
            if (i_ == s_.size()) {
                return fail("unterminated string", i_);
            }
            char c = s_[i_];
            int v = is_digit(c)              ? c - '0'
                    : c >= 'a' && c <= 'f'   ? c - 'a' + 10
                    : c >= 'A' && c <= 'F'   ? c - 'A' + 10
                                             : -1;
            if (v < 0) {
                return fail("syntax error", i_);
            }
            cp = cp << 4 | static_cast<unsigned int>(v);
        }
        return true;
    }
};

void append_quoted(std::string &out, std::string_view s)
{
    out += '"';
    json_append_escaped(out, s);
    out += '"';
}

void append_text(std::string &out, const JsonValue &v)
{
    switch (v.type) {
    case JsonType::null:
        out += "null";
        break;
    case JsonType::boolean:
        out += v.boolean ? "true" : "false";
        break;
    case JsonType::number:
        out += json_number_text(v);
        break;
    case JsonType::string:
        append_quoted(out, v.text);
        break;
    case JsonType::array:
        out += '[';
        for (std::size_t i = 0; i < v.items.size(); i++) {
            if (i) out += ',';
            append_text(out, v.items[i]);
        }
        out += ']';
        break;
    case JsonType::object:
        out += '{';
        for (std::size_t i = 0; i < v.members.size(); i++) {
            if (i) out += ',';
            append_quoted(out, v.members[i].name);
            out += ':';
            append_text(out, v.members[i].value);
        }
        out += '}';
        break;
    }
}

} // namespace

const JsonValue *JsonValue::find(std::string_view name) const
{
    for (const JsonMember &m : members) {
        if (m.name == name) {
            return &m.value;
        }
    }
    return nullptr;
}

JsonDocument json_parse(std::string_view text)
{
    JsonDocument doc;
    Reader(text, doc).document();
    return doc;
}

std::string json_text(const JsonValue &value)
{
    std::string out;
    append_text(out, value);
    return out;
}

std::string json_number_text(const JsonValue &number)
{
    double v = number.number;

    if (!std::isfinite(v)) {
        return number.text;
    }

    char buf[64];
    if (std::floor(v) == v && std::fabs(v) < 9.007199254740992e15) {
        auto r = std::to_chars(buf, buf + sizeof(buf), v,
                               std::chars_format::fixed);
        return std::string(buf, r.ptr);
    }
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
}

} // namespace cligw
