/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Parsing of the gateway's JSON request body (no nginx types: unit-tested).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cligw {

struct RequestLimits {
    std::size_t max_args = 256;        // 0: unlimited
    std::size_t max_arg_length = 4096; // bytes per argument; 0: unlimited
};

struct ValidationError {
    std::string field;   // "args", "args[3]", "timeout_secs", "context_id", "body"
    std::string message; // human readable, e.g. "must be an array of strings"
    std::string code;    // machine readable: "missing", "invalid_type",
                         // "invalid_value", "too_long", "too_many", "duplicate"
};

struct CliRequest {
    std::vector<std::string> args;
    bool has_timeout = false;
    std::uint64_t timeout_secs = 0;   // valid only when has_timeout
    bool has_context_id = false;
    std::string context_id;
};

enum class ParseStatus {
    ok,         // request is filled in
    bad_json,   // 400: not syntactically valid JSON (message says why)
    invalid,    // 422: valid JSON of the wrong shape (errors name the fields)
};

struct ParseResult {
    ParseStatus status = ParseStatus::ok;
    CliRequest request;
    std::string message;                  // summary for 400 / 422
    std::vector<ValidationError> errors;  // non-empty for 422
};

// Never throws (std::bad_alloc aside, which callers catch).
ParseResult parse_cli_request(std::string_view body,
                              const RequestLimits &limits);

// True for "application/json", "application/<x>+json", with optional
// parameters, case-insensitive (what axum's Json extractor accepts).
bool is_json_content_type(std::string_view content_type);

} // namespace cligw
