/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The JSON error body of systemprompt-api's ApiError, and log escaping.

#include "cligw/error.hpp"

#include "cligw/json_writer.hpp"

namespace cligw {

namespace {

void append_string(std::string &out, std::string_view s)
{
    out += '"';
    json_append_escaped(out, s);
    out += '"';
}

void append_string_or_null(std::string &out, std::string_view s)
{
    if (s.empty()) {
        out += "null";
    } else {
        append_string(out, s);
    }
}

} // namespace

std::string render_error_body(const ErrorBody &e)
{
    std::string out = "{\"code\":";
    append_string(out, e.code);
    out += ",\"message\":";
    append_string(out, e.message);
    out += ",\"details\":null,\"error_key\":null,\"path\":";
    append_string_or_null(out, e.path);
    out += ",\"validation_errors\":[";

    if (e.validation_errors) {
        const char *sep = "";
        for (const ValidationError &v : *e.validation_errors) {
            out += sep;
            out += "{\"field\":";
            append_string(out, v.field);
            out += ",\"message\":";
            append_string(out, v.message);
            out += ",\"code\":";
            append_string(out, v.code);
            out += '}';
            sep = ",";
        }
    }

    out += "],\"timestamp\":";
    append_string(out, rfc3339_utc(e.now));
    out += ",\"trace_id\":";
    append_string_or_null(out, e.trace_id);
    out += '}';

    return out;
}

std::string rfc3339_utc(std::time_t t)
{
    struct tm tm;
    char buf[sizeof("2026-01-01T00:00:00Z") + 8];

    if (gmtime_r(&t, &tm) == nullptr
        || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    {
        return "1970-01-01T00:00:00Z";
    }

    return buf;
}

void log_append_escaped(std::string &out, std::string_view s)
{
    static const char hex[] = "0123456789abcdef";

    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            const char x[] = { '\\', 'x', hex[c >> 4], hex[c & 0xf] };
            out.append(x, sizeof(x));
        }
    }
}

std::string log_format_args(const std::vector<std::string> &args)
{
    std::string out = "[";
    const char *sep = "";

    for (const std::string &arg : args) {
        out += sep;
        out += '"';
        log_append_escaped(out, arg);
        out += '"';
        sep = ",";
    }

    out += ']';
    return out;
}

} // namespace cligw
