/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Command policy: which leading args pass.

#include "unit.hpp"

#include "cligw/policy.hpp"

using namespace cligw;

// The location's rules as the tests write them; the decision points into
// the policy, which stays until the next check.
static PolicyDecision check_policy(const std::vector<std::string> &args,
                                   std::vector<Rule> allow,
                                   std::vector<Rule> deny)
{
    static Policy policy;
    policy = Policy{ std::move(allow), std::move(deny) };
    return cligw::check_policy(args, policy);
}

static void test_no_rules(void **)
{
    assert_true(check_policy({ "anything" }, {}, {}).allowed);
    assert_true(check_policy({}, {}, {}).allowed);
}

static void test_allow(void **)
{
    std::vector<Rule> allow = { { "agents", "list" }, { "logs" } };

    assert_true(check_policy({ "agents", "list" }, allow, {}).allowed);
    assert_true(check_policy({ "agents", "list", "--json" }, allow, {}).allowed);
    assert_true(check_policy({ "logs", "-f" }, allow, {}).allowed);
    assert_false(check_policy({ "agents" }, allow, {}).allowed);
    assert_false(check_policy({ "agents", "delete" }, allow, {}).allowed);
    assert_false(check_policy({ "agents", "listx" }, allow, {}).allowed);
    assert_false(check_policy({ "Logs" }, allow, {}).allowed);
    assert_false(check_policy({}, allow, {}).allowed);
    assert_null(check_policy({ "db" }, allow, {}).rule);
}

static void test_deny(void **)
{
    std::vector<Rule> allow = { { "db" } };
    std::vector<Rule> deny = { { "db", "drop" } };

    assert_true(check_policy({ "db", "migrate" }, allow, deny).allowed);

    Policy policy{ allow, deny };
    PolicyDecision d = cligw::check_policy({ "db", "drop", "all" }, policy);
    assert_false(d.allowed);
    assert_ptr_equal(d.rule, &policy.deny[0]);
    assert_bytes_equal(rule_text(*d.rule), "db drop");

    // deny alone leaves everything else allowed
    assert_true(check_policy({ "agents" }, {}, deny).allowed);
    assert_false(check_policy({ "db", "drop" }, {}, deny).allowed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rules),
        cmocka_unit_test(test_allow),
        cmocka_unit_test(test_deny),
    };
    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
