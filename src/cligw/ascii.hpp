/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// ASCII without a locale (no nginx types): header values and schemes are
// compared this way, never with the C library's tolower().
#pragma once

#include <string_view>

namespace cligw {

// a equals `lower`, itself in lower case, whatever the case of a's letters
constexpr bool ascii_equal_nocase(std::string_view a, std::string_view lower)
{
    if (a.size() != lower.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); i++) {
        char c = a[i] >= 'A' && a[i] <= 'Z' ? char(a[i] - 'A' + 'a') : a[i];
        if (c != lower[i]) {
            return false;
        }
    }
    return true;
}

} // namespace cligw
