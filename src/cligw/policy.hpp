/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The command policy of a location: allow and deny rules on the leading
// arguments (no nginx types).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cligw {

using Rule = std::vector<std::string_view>; // leading args, word by word

struct PolicyDecision {
    bool allowed = true;
    const Rule *rule = nullptr; // the deny rule that refused, if any
};

// A location's rules, built once from its configuration.
struct Policy {
    std::vector<Rule> allow;
    std::vector<Rule> deny;
};

// A rule matches when the args begin with its words, each equal. Deny
// rules win; when there are allow rules, the args must match one of them.
PolicyDecision check_policy(const std::vector<std::string> &args,
                            const Policy &policy);

// "db drop" for messages and logs.
std::string rule_text(const Rule &rule);

} // namespace cligw
