/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Parsing of the gateway's JSON request body with the strict JSON reader.

#include "cligw/request.hpp"

#include "cligw/ascii.hpp"

#include "cligw/json.hpp"
#include "cligw/utf8.hpp"

#include <cmath>

namespace cligw {

namespace {

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
// the error.
bool check_string(ParseResult &r, const std::string &field,
                  const std::string &v, std::size_t max_len)
{
    bool nul = v.find('\0') != std::string::npos;

    if (!utf8_valid(v)) {
        add(r, field,
            nul ? "must be valid UTF-8 without NUL" : "must be valid UTF-8",
            "invalid_value");
        return false;
    }
    if (nul) {
        add(r, field, "must not contain NUL", "invalid_value");
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

void parse_args(ParseResult &r, const JsonValue &args,
                const RequestLimits &lim)
{
    if (args.type != JsonType::array) {
        add(r, "args", "must be an array of strings", "invalid_type");
        return;
    }

    std::size_t n = args.items.size();
    if (lim.max_args && n > lim.max_args) {
        add(r, "args",
            "has more than " + std::to_string(lim.max_args) + " elements",
            "too_many");
        return;
    }

    r.request.args.reserve(n);

    for (std::size_t i = 0; i < n; i++) {
        const JsonValue &e = args.items[i];
        std::string field = index_field("args", i);

        if (e.type != JsonType::string) {
            add(r, field, "must be a string", "invalid_type");
            continue;
        }
        if (check_string(r, field, e.text, lim.max_arg_length)) {
            r.request.args.push_back(e.text);
        }
    }
}

void parse_timeout(ParseResult &r, const JsonValue &t)
{
    if (t.type != JsonType::number) {
        add(r, "timeout_secs", "must be a non-negative integer",
            "invalid_type");
        return;
    }

    double v = t.number;
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

void parse_context_id(ParseResult &r, const JsonValue &c)
{
    if (c.type == JsonType::null) {
        return;
    }
    if (c.type != JsonType::string) {
        add(r, "context_id", "must be a string", "invalid_type");
        return;
    }
    if (check_string(r, "context_id", c.text, 0)) {
        r.request.has_context_id = true;
        r.request.context_id = c.text;
    }
}

} // namespace

ParseResult parse_cli_request(std::string_view body,
                              const RequestLimits &limits)
{
    ParseResult r;

    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        r.status = ParseStatus::bad_json;
        r.message = "Invalid JSON: empty body";
        return r;
    }

    // a NUL, bad UTF-8 or a twice-named member matter only where
    // they are: in the fields below
    JsonDocument doc = json_parse(body);

    if (doc.error) {
        r.status = ParseStatus::bad_json;
        r.message = std::string("Invalid JSON: ") + doc.error + " at byte "
                    + std::to_string(doc.at);
        return r;
    }

    if (doc.root.type != JsonType::object) {
        add(r, "body", "must be a JSON object", "invalid_type");
    } else {
        const JsonValue *args = nullptr, *timeout = nullptr,
                        *context = nullptr;

        for (const JsonMember &f : doc.root.members) {
            const JsonValue **slot = nullptr;

            if (f.name == "args") slot = &args;
            else if (f.name == "timeout_secs") slot = &timeout;
            else if (f.name == "context_id") slot = &context;
            else continue; // unknown fields are ignored

            if (*slot) {
                add(r, f.name, "is given more than once", "duplicate");
                continue;
            }
            *slot = &f.value;
        }

        if (args == nullptr) {
            add(r, "args", "is required", "missing");
        } else {
            parse_args(r, *args, limits);
        }
        if (timeout) {
            parse_timeout(r, *timeout);
        }
        if (context) {
            parse_context_id(r, *context);
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


    constexpr std::string_view app = "application/";
    constexpr std::string_view suffix = "+json";

    if (ct.size() < app.size() || !ascii_equal_nocase(ct.substr(0, app.size()), app)) {
        return false;
    }

    std::string_view sub = ct.substr(app.size());

    return ascii_equal_nocase(sub, "json")
           || (sub.size() > suffix.size()
               && ascii_equal_nocase(sub.substr(sub.size() - suffix.size()),
                              suffix));
}

} // namespace cligw
