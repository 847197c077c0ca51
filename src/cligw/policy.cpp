/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Command policy: matching args against allow and deny rules.

#include "cligw/policy.hpp"

namespace cligw {

namespace {

bool matches(const std::vector<std::string> &args, const Rule &rule)
{
    if (rule.size() > args.size()) {
        return false;
    }
    for (std::size_t i = 0; i < rule.size(); i++) {
        if (args[i] != rule[i]) {
            return false;
        }
    }
    return true;
}

} // namespace

PolicyDecision check_policy(const std::vector<std::string> &args,
                            const Policy &policy)
{
    PolicyDecision d;

    for (const Rule &rule : policy.deny) {
        if (matches(args, rule)) {
            d.allowed = false;
            d.rule = &rule;
            return d;
        }
    }

    if (policy.allow.empty()) {
        return d;
    }

    for (const Rule &rule : policy.allow) {
        if (matches(args, rule)) {
            return d;
        }
    }

    d.allowed = false;
    return d;
}

std::string rule_text(const Rule &rule)
{
    std::string text;
    for (std::string_view word : rule) {
        if (!text.empty()) {
            text += ' ';
        }
        text += word;
    }
    return text;
}

} // namespace cligw
