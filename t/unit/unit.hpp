/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// cmocka, and string comparisons that show both sides on failure.
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

extern "C" {
#include <cmocka.h>
}

#include <string>
#include <string_view>

#define assert_bytes_equal(actual, expected)                                  \
    do {                                                                      \
        std::string a_{actual}, e_{expected};                                 \
        if (a_ != e_) {                                                       \
            print_error("got      [%s]\nexpected [%s]\n", a_.c_str(),         \
                        e_.c_str());                                          \
        }                                                                     \
        assert_true(a_ == e_);                                                \
    } while (0)
