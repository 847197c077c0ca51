/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The JSON error body of systemprompt-api's ApiError (no nginx types).
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "cligw/request.hpp"

namespace cligw {

struct ErrorBody {
    std::string_view code;      // snake_case: "forbidden", "validation_error"
    std::string_view message;
    std::string_view path;      // empty -> null
    std::string_view trace_id;  // empty -> null
    const std::vector<ValidationError> *validation_errors = nullptr;
    std::time_t now = 0;
};

// {"code":"forbidden","message":"...","details":null,"error_key":null,
//  "path":"/x","validation_errors":[{"field":..,"message":..,"code":..}],
//  "timestamp":"2026-01-01T00:00:00Z","trace_id":"..."}
std::string render_error_body(const ErrorBody &e);

// RFC 3339, UTC, whole seconds: "2026-01-01T00:00:00Z".
std::string rfc3339_utc(std::time_t t);

// Escapes arbitrary bytes for one log line: printable ASCII as is except
// '"' and '\\', everything else as \xNN; so no log line can be forged.
void log_append_escaped(std::string &out, std::string_view s);
// ["a","b c"] form of argv for the log, each element log-escaped.
std::string log_format_args(const std::vector<std::string> &args);

} // namespace cligw
