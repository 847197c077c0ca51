/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// libFuzzer: the request body parser and the Content-Type check.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cligw/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::string_view in(reinterpret_cast<const char *>(data), size);
    cligw::RequestLimits limits;
    limits.max_args = 64;
    limits.max_arg_length = 256;

    cligw::ParseResult r = cligw::parse_cli_request(in, limits);
    if (r.status == cligw::ParseStatus::ok) {
        // what is accepted respects the limits and has no NUL
        if (r.request.args.size() > limits.max_args) __builtin_trap();
        for (const auto &a : r.request.args) {
            if (a.size() > limits.max_arg_length
                || a.find('\0') != std::string::npos) __builtin_trap();
        }
    } else if (r.status == cligw::ParseStatus::invalid && r.errors.empty()) {
        __builtin_trap();
    }
    cligw::is_json_content_type(in);
    return 0;
}
