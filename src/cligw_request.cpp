/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Parsing of the gateway's JSON request body with cJSON.

#include "cligw_request.hpp"

#include <cjson/cJSON.h>

#include <cmath>
#include <memory>

namespace cligw {

namespace {

struct JsonDeleter {
    void operator()(cJSON *j) const { cJSON_Delete(j); }
};

using JsonPtr = std::unique_ptr<cJSON, JsonDeleter>;

// A byte that cannot appear in a string that passes valid_utf8(): it marks
// where the body escaped a NUL, which cJSON's C strings would cut at.
constexpr char nul_mark = '\xFF';

bool valid_utf8(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len;
        unsigned char lo = 0x80, hi = 0xBF;

        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else {
            return false;
        }

        if (i + len > s.size()) return false;
        auto b = static_cast<unsigned char>(s[i + 1]);
        if (b < lo || b > hi) return false;
        for (std::size_t k = 2; k < len; k++) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

// What the pass over the raw text found before cJSON sees it.
struct Prescan {
    const char *error = nullptr; // why the text is not JSON, or null
    std::size_t at = 0;          // byte offset of that error
    bool has_nul = false;        // a string escapes NUL: see nul_mark
    bool has_ff = false;         // a raw 0xFF byte, which looks like nul_mark
    std::string rewritten;       // the text, "\u0000" -> 6 x nul_mark
};

bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Length of the number at s[i] by RFC 8259's grammar, 0 if malformed.
// cJSON hands anything made of [0-9+-.eE] to strtod, so it takes "01" and
// "1." which serde_json refuses.
std::size_t number_length(std::string_view s, std::size_t i)
{
    std::size_t start = i;
    auto digit = [&] { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
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
    // only a separator may follow: "01", "1.2.3", "1e5e" end here
    if (i < s.size() && !is_json_space(s[i]) && s[i] != ',' && s[i] != ']'
        && s[i] != '}')
    {
        return 0;
    }
    return i - start;
}

// One pass over the raw text for what cJSON is lenient about: whitespace
// other than JSON's four (cJSON skips every byte <= 0x20), a UTF-8 BOM,
// malformed numbers, raw control bytes in strings, unterminated strings.
// Structure, escapes and literals are left to cJSON. "\u0000" is
// rewritten to nul_mark, same length, so that a NUL is seen after parsing.
Prescan prescan(std::string_view s)
{
    Prescan p;
    bool in_string = false;
    std::size_t i = 0;

    auto fail = [&](const char *why) {
        p.error = why;
        p.at = i;
        return std::move(p);
    };

    while (i < s.size()) {
        char c = s[i];

        if (in_string) {
            if (c == '"') {
                in_string = false;
            } else if (static_cast<unsigned char>(c) < 0x20) {
                return fail("control character in a string");
            } else if (c == '\\') {
                if (i + 1 == s.size()) {
                    break; // unterminated
                }
                if (s.substr(i + 1, 5) == "u0000") {
                    if (!p.has_nul) {
                        p.rewritten.assign(s.data(), s.size());
                        p.has_nul = true;
                    }
                    p.rewritten.replace(i, 6, 6, nul_mark);
                    i += 4;
                }
                i++; // the escaped character: cJSON checks it
            } else if (c == nul_mark) {
                p.has_ff = true;
            }
            i++;
            continue;
        }

        if (c == '"') {
            in_string = true;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            std::size_t n = number_length(s, i);
            if (n == 0) {
                return fail("malformed number");
            }
            i += n;
            continue;
        } else if (!is_json_space(c) && !(c >= 'a' && c <= 'z')
                   && std::string_view("{}[]:,").find(c) == s.npos)
        {
            return fail("unexpected character"); // letters: cJSON checks
        }
        i++;
    }

    if (in_string) {
        return fail("unterminated string");
    }
    return p;
}

std::string index_field(const char *name, std::size_t i)
{
    return std::string(name) + "[" + std::to_string(i) + "]";
}

void add(ParseResult &r, std::string field, std::string message,
         std::string code)
{
    r.errors.push_back({ std::move(field), std::move(message),
                         std::move(code) });
}

// A string value: valid UTF-8 and no NUL. Returns false after adding
// the error. cJSON's own \u decoding only yields valid UTF-8, so a value
// that is not comes from raw bytes or from nul_mark.
bool check_string(ParseResult &r, const Prescan &p, const std::string &field,
                  const char *s, std::size_t max_len)
{
    std::string_view v(s);

    if (!valid_utf8(v)) {
        bool mark = p.has_nul && v.find(nul_mark) != std::string_view::npos;
        add(r, field,
            !mark      ? "must be valid UTF-8"
            : p.has_ff ? "must be valid UTF-8 without NUL"
                       : "must not contain NUL",
            "invalid_value");
        return false;
    }
    if (max_len && v.size() > max_len) {
        add(r, field,
            "is longer than " + std::to_string(max_len) + " bytes",
            "too_long");
        return false;
    }
    return true;
}

void parse_args(ParseResult &r, const Prescan &p, const cJSON *args,
                const RequestLimits &lim)
{
    if (!cJSON_IsArray(args)) {
        add(r, "args", "must be an array of strings", "invalid_type");
        return;
    }

    std::size_t n = static_cast<std::size_t>(cJSON_GetArraySize(args));
    if (lim.max_args && n > lim.max_args) {
        add(r, "args",
            "has more than " + std::to_string(lim.max_args) + " elements",
            "too_many");
        return;
    }

    r.request.args.reserve(n);

    std::size_t i = 0;
    for (const cJSON *e = args->child; e; e = e->next, i++) {
        std::string field = index_field("args", i);

        if (!cJSON_IsString(e)) {
            add(r, field, "must be a string", "invalid_type");
            continue;
        }
        if (check_string(r, p, field, e->valuestring, lim.max_arg_length)) {
            r.request.args.emplace_back(e->valuestring);
        }
    }
}

void parse_timeout(ParseResult &r, const cJSON *t)
{
    if (!cJSON_IsNumber(t)) {
        add(r, "timeout_secs", "must be a non-negative integer",
            "invalid_type");
        return;
    }

    double v = t->valuedouble;
    if (!std::isfinite(v) || v < 0 || std::floor(v) != v) {
        add(r, "timeout_secs", "must be a non-negative integer",
            "invalid_value");
        return;
    }

    r.request.has_timeout = true;
    r.request.timeout_secs = v >= 18446744073709551615.0
                                 ? UINT64_MAX
                                 : static_cast<std::uint64_t>(v);
}

void parse_context_id(ParseResult &r, const Prescan &p, const cJSON *c)
{
    if (cJSON_IsNull(c)) {
        return;
    }
    if (!cJSON_IsString(c)) {
        add(r, "context_id", "must be a string", "invalid_type");
        return;
    }
    if (check_string(r, p, "context_id", c->valuestring, 0)) {
        r.request.has_context_id = true;
        r.request.context_id = c->valuestring;
    }
}

} // namespace

ParseResult parse_cli_request(std::string_view body,
                              const RequestLimits &limits)
{
    ParseResult r;
    Prescan p = prescan(body);

    if (p.error) {
        r.status = ParseStatus::bad_json;
        r.message = std::string("Invalid JSON: ") + p.error + " at byte "
                    + std::to_string(p.at);
        return r;
    }

    std::string_view text = p.has_nul ? std::string_view(p.rewritten) : body;
    const char *end = nullptr;

    JsonPtr root(cJSON_ParseWithLengthOpts(text.data(), text.size(), &end,
                                           false));

    if (root) {
        // cJSON stops after the value: only whitespace may follow it
        while (end < text.data() + text.size() && is_json_space(*end)) {
            end++;
        }
        if (end < text.data() + text.size()) {
            root.reset();
        }
    }

    if (!root) {
        // on failure cJSON points `end` at (about) where it gave up
        std::size_t at = end && end >= text.data()
                                 && end <= text.data() + text.size()
                             ? static_cast<std::size_t>(end - text.data())
                             : 0;
        r.status = ParseStatus::bad_json;
        r.message = body.find_first_not_of(" \t\r\n") == body.npos
                        ? "Invalid JSON: empty body"
                        : "Invalid JSON: syntax error at byte "
                              + std::to_string(at);
        return r;
    }

    if (!cJSON_IsObject(root.get())) {
        add(r, "body", "must be a JSON object", "invalid_type");
    } else {
        const cJSON *args = nullptr, *timeout = nullptr, *context = nullptr;

        for (const cJSON *f = root->child; f; f = f->next) {
            const cJSON **slot = nullptr;
            std::string_view key(f->string ? f->string : "");

            if (key == "args") slot = &args;
            else if (key == "timeout_secs") slot = &timeout;
            else if (key == "context_id") slot = &context;
            else continue; // unknown fields are ignored

            if (*slot) {
                add(r, std::string(key), "is given more than once",
                    "duplicate");
                continue;
            }
            *slot = f;
        }

        if (args == nullptr) {
            add(r, "args", "is required", "missing");
        } else {
            parse_args(r, p, args, limits);
        }
        if (timeout) {
            parse_timeout(r, timeout);
        }
        if (context) {
            parse_context_id(r, p, context);
        }
    }

    if (!r.errors.empty()) {
        r.status = ParseStatus::invalid;
        r.message = "Invalid request body";
        r.request = CliRequest();
    }

    return r;
}

bool is_json_content_type(std::string_view ct)
{
    auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
            s.remove_prefix(1);
        }
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
            s.remove_suffix(1);
        }
        return s;
    };

    ct = trim(ct.substr(0, ct.find(';')));

    auto lower_equal = [](std::string_view a, std::string_view b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); i++) {
            char c = a[i] >= 'A' && a[i] <= 'Z' ? a[i] - 'A' + 'a' : a[i];
            if (c != b[i]) { // ASCII only: no locale
                return false;
            }
        }
        return true;
    };

    constexpr std::string_view app = "application/";
    constexpr std::string_view suffix = "+json";

    if (ct.size() < app.size() || !lower_equal(ct.substr(0, app.size()), app)) {
        return false;
    }

    std::string_view sub = ct.substr(app.size());

    return lower_equal(sub, "json")
           || (sub.size() > suffix.size()
               && lower_equal(sub.substr(sub.size() - suffix.size()),
                              suffix));
}

} // namespace cligw
