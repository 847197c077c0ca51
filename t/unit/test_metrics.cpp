/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// The metrics' exact text: Prometheus exposition format and JSON.

#include "unit.hpp"

#include "cligw/metrics.hpp"

using namespace cligw;

static Metrics known()
{
    Metrics m;
    m.runs_started = 5;
    m.runs_running = 1;
    m.runs_detached = 2;
    m.refused[refusal_index("forbidden")] = 1;
    m.refused[refusal_index("unsupported_media_type")] = 3;
    m.exited[0] = 3;            // exited
    m.exited[1] = 1;            // failed
    m.exited[exit_timeout] = 1;
    m.exited[exit_cancelled] = 4;
    m.output_bytes = 12345678901234ULL;
    m.events_bytes = 42;
    return m;
}

static void test_refusal_index(void **)
{
    assert_int_equal(refusal_index("forbidden"), 0);
    assert_int_equal(refusal_index("conflict"), refusal_reasons.size() - 1);
    assert_int_equal(refusal_index("rate_limited"), 7);
    assert_int_equal(refusal_index("internal"), refusal_reasons.size());
    assert_int_equal(refusal_index(""), refusal_reasons.size());
    assert_int_equal(refusal_index("Forbidden"), refusal_reasons.size());
}

static void test_prometheus(void **)
{
    assert_bytes_equal(metrics_prometheus(known()),
        "# HELP cli_gateway_runs_started_total Programs started.\n"
        "# TYPE cli_gateway_runs_started_total counter\n"
        "cli_gateway_runs_started_total 5\n"
        "# HELP cli_gateway_runs_running Programs running now, in all "
        "workers.\n"
        "# TYPE cli_gateway_runs_running gauge\n"
        "cli_gateway_runs_running 1\n"
        "# HELP cli_gateway_runs_detached Runs going on without a client.\n"
        "# TYPE cli_gateway_runs_detached gauge\n"
        "cli_gateway_runs_detached 2\n"
        "# HELP cli_gateway_requests_refused_total Requests refused before a "
        "run, by the error code.\n"
        "# TYPE cli_gateway_requests_refused_total counter\n"
        "cli_gateway_requests_refused_total{reason=\"forbidden\"} 1\n"
        "cli_gateway_requests_refused_total{reason=\"unauthorized\"} 0\n"
        "cli_gateway_requests_refused_total{reason=\"method_not_allowed\"} 0\n"
        "cli_gateway_requests_refused_total{reason=\"unsupported_media_type\"}"
        " 3\n"
        "cli_gateway_requests_refused_total{reason=\"bad_request\"} 0\n"
        "cli_gateway_requests_refused_total{reason=\"validation_error\"} 0\n"
        "cli_gateway_requests_refused_total{reason=\"payload_too_large\"} 0\n"
        "cli_gateway_requests_refused_total{reason=\"rate_limited\"} 0\n"
        "cli_gateway_requests_refused_total{reason=\"service_unavailable\"} "
        "0\n"
        "cli_gateway_requests_refused_total{reason=\"not_found\"} 0\n"
        "cli_gateway_requests_refused_total{reason=\"conflict\"} 0\n"
        "# HELP cli_gateway_runs_exited_total Runs ended, by how they ended.\n"
        "# TYPE cli_gateway_runs_exited_total counter\n"
        "cli_gateway_runs_exited_total{kind=\"exited\"} 3\n"
        "cli_gateway_runs_exited_total{kind=\"failed\"} 1\n"
        "cli_gateway_runs_exited_total{kind=\"signaled\"} 0\n"
        "cli_gateway_runs_exited_total{kind=\"timeout\"} 1\n"
        "cli_gateway_runs_exited_total{kind=\"cancelled\"} 4\n"
        "cli_gateway_runs_exited_total{kind=\"client_gone\"} 0\n"
        "cli_gateway_runs_exited_total{kind=\"output_limit\"} 0\n"
        "cli_gateway_runs_exited_total{kind=\"detach_timeout\"} 0\n"
        "cli_gateway_runs_exited_total{kind=\"spawn_failed\"} 0\n"
        "cli_gateway_runs_exited_total{kind=\"worker_exit\"} 0\n"
        "# HELP cli_gateway_runs_timeouts_total Runs stopped by their "
        "timeout.\n"
        "# TYPE cli_gateway_runs_timeouts_total counter\n"
        "cli_gateway_runs_timeouts_total 1\n"
        "# HELP cli_gateway_runs_cancelled_total Runs cancelled.\n"
        "# TYPE cli_gateway_runs_cancelled_total counter\n"
        "cli_gateway_runs_cancelled_total 4\n"
        "# HELP cli_gateway_output_bytes_total Bytes of program output read.\n"
        "# TYPE cli_gateway_output_bytes_total counter\n"
        "cli_gateway_output_bytes_total 12345678901234\n"
        "# HELP cli_gateway_events_bytes_total Bytes of server-sent events "
        "handed to clients.\n"
        "# TYPE cli_gateway_events_bytes_total counter\n"
        "cli_gateway_events_bytes_total 42\n");
}

static void test_json(void **)
{
    assert_bytes_equal(metrics_json(known()),
        "{\"runs_started\":5,\"runs_running\":1,\"runs_detached\":2,"
        "\"requests_refused\":{\"forbidden\":1,\"unauthorized\":0,"
        "\"method_not_allowed\":0,\"unsupported_media_type\":3,"
        "\"bad_request\":0,\"validation_error\":0,\"payload_too_large\":0,"
        "\"rate_limited\":0,\"service_unavailable\":0,\"not_found\":0,"
        "\"conflict\":0},"
        "\"runs_exited\":{\"exited\":3,\"failed\":1,\"signaled\":0,"
        "\"timeout\":1,\"cancelled\":4,\"client_gone\":0,\"output_limit\":0,"
        "\"detach_timeout\":0,\"spawn_failed\":0,\"worker_exit\":0},"
        "\"timeouts\":1,\"cancelled\":4,\"output_bytes\":12345678901234,"
        "\"events_bytes\":42}");
}

// A gauge that went below zero shows as such, not as 2^64 - 1.
static void test_negative_gauge(void **)
{
    Metrics m;
    m.runs_detached = -1;

    std::string text = metrics_prometheus(m);
    assert_true(text.find("\ncli_gateway_runs_detached -1\n")
                != std::string::npos);
    assert_true(metrics_json(m).find("\"runs_detached\":-1,")
                != std::string::npos);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusal_index),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_negative_gauge),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
