/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// A run's cgroup: the checks nginx -t makes, and a real program kept in
// its cgroup after setsid, killed with it, and the cgroup removed. The
// parts that need a cgroup v2 file system and root say so when skipped.

// before cmocka, whose fail() macro would break <fstream>
#include <fstream>

#include "unit.hpp"

#include "cligw/cgroup.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace cligw;

namespace {

std::string cgroup2_mount()
{
    std::ifstream in("/proc/mounts");
    std::string dev, dir, type, rest;
    while (in >> dev >> dir >> type && std::getline(in, rest)) {
        if (type == "cgroup2") {
            return dir;
        }
    }
    return "";
}

// A parent cgroup for the test, or "" (and the test is skipped, loudly).
std::string make_parent()
{
    std::string mount = cgroup2_mount();
    if (mount.empty()) {
        print_message("skipped: no cgroup v2 file system is mounted\n");
        return "";
    }
    if (geteuid() != 0) {
        print_message("skipped: making a cgroup under %s needs root\n",
                      mount.c_str());
        return "";
    }
    static int made = 0;
    std::string parent = mount + "/cli-gateway-unit." + std::to_string(getpid())
                         + "." + std::to_string(++made);
    assert_int_equal(mkdir(parent.c_str(), 0755), 0);
    return parent;
}

bool contains(const std::string &s, const std::string &part)
{
    return s.find(part) != std::string::npos;
}

} // namespace

static void test_not_a_cgroup(void **)
{
    std::string error;
    assert_false(check_cgroup_parent("/tmp", CgroupLimits{}, 0, 0, error));
    assert_bytes_equal(error, "\"/tmp\" is not in a cgroup v2 file system");

    assert_false(check_cgroup_parent("/nonexistent/x", CgroupLimits{}, 0, 0,
                                     error));
    assert_bytes_equal(error, "\"/nonexistent/x\" is not a directory");
}

static void test_parent_checks(void **)
{
    std::string parent = make_parent();
    if (parent.empty()) {
        skip();
    }

    std::string error;
    assert_true(check_cgroup_parent(parent + "/", CgroupLimits{}, 0, 0,
                                    error));

    // a controller the parent does not give its children
    std::ifstream in(parent + "/cgroup.controllers");
    std::string available((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
    if (!contains(available, "pids")) {
        CgroupLimits pids;
        pids.pids_max = 10;
        assert_false(check_cgroup_parent(parent, pids, 0, 0, error));
        assert_bytes_equal(error, "the \"pids\" controller is not available "
                                  "in \"" + parent + "\"");
    } else {
        print_message("pids is available here: its error is not checked\n");
    }

    // a worker user that cannot write the root-owned parent
    assert_false(check_cgroup_parent(parent, CgroupLimits{}, 65534, 65534,
                                     error));
    assert_bytes_equal(error, "the workers' user (uid 65534) cannot create "
                              "cgroups in \"" + parent + "\"");

    assert_int_equal(rmdir(parent.c_str()), 0);
}

static void test_escapee_stays_and_is_killed(void **)
{
    std::string parent = make_parent();
    if (parent.empty()) {
        skip();
    }
    std::string dir = parent + "/run-1";

    UniqueFd procs;
    std::string failed;
    assert_int_equal(create_cgroup(dir, CgroupLimits{}, procs, failed), 0);
    assert_true(procs.get() >= 0);

    static char sh[] = "/bin/sh", c[] = "-c";
    static char script[] = "setsid sleep 30 & grep ^0:: /proc/self/cgroup";
    char *argv[] = { sh, c, script, nullptr };
    static char env0[] = "PATH=/usr/bin:/bin";
    char *envp[] = { env0, nullptr };

    SpawnSpec spec{ "/bin/sh", argv, envp, nullptr, ChildLimits{} };
    spec.cgroup_procs = procs.get();

    Child child;
    assert_int_equal(spawn_child(spec, child), 0);

    // our end of the pipe does not block: wait for the line
    struct pollfd pfd = { child.out.get(), POLLIN, 0 };
    assert_int_equal(poll(&pfd, 1, 10000), 1);
    char buf[512];
    ssize_t n = read(child.out.get(), buf, sizeof(buf));
    assert_true(n > 0);
    std::string out(buf, static_cast<std::size_t>(n));
    std::string rel = dir.substr(cgroup2_mount().size());
    assert_bytes_equal(out, "0::" + rel + "\n");

    int code, signo;
    assert_int_equal(static_cast<int>(reap_child(child.pid, child.pidfd.get(),
                                                 true, code, signo)),
                     static_cast<int>(ReapResult::exited));
    assert_int_equal(code, 0);

    // the setsid'd sleep left the process group, not the cgroup
    assert_true(cgroup_populated(dir));
    assert_int_equal(remove_cgroup(dir), EBUSY);

    assert_int_equal(kill_cgroup(dir), 0);
    for (int i = 0; i < 100 && cgroup_populated(dir); i++) {
        usleep(10000);
    }
    assert_false(cgroup_populated(dir));
    assert_int_equal(remove_cgroup(dir), 0);
    assert_int_equal(access(dir.c_str(), F_OK), -1);
    assert_int_equal(kill_cgroup(dir), ENOENT);
    assert_int_equal(remove_cgroup(dir), 0);

    assert_int_equal(rmdir(parent.c_str()), 0);
}

static void test_limit_without_controller(void **)
{
    std::string parent = make_parent();
    if (parent.empty()) {
        skip();
    }
    std::string dir = parent + "/run-2";

    std::ifstream in(parent + "/cgroup.subtree_control");
    std::string enabled((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
    if (contains(enabled, "pids")) {
        print_message("skipped: pids is enabled in %s\n", parent.c_str());
        rmdir(parent.c_str());
        skip();
    }

    CgroupLimits pids;
    pids.pids_max = 10;
    UniqueFd procs;
    std::string failed;
    assert_int_equal(create_cgroup(dir, pids, procs, failed), ENOENT);
    assert_bytes_equal(failed, dir + "/pids.max");
    assert_int_equal(procs.get(), -1);
    // nothing left behind
    assert_int_equal(access(dir.c_str(), F_OK), -1);

    assert_int_equal(rmdir(parent.c_str()), 0);
}

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_a_cgroup),
        cmocka_unit_test(test_parent_checks),
        cmocka_unit_test(test_escapee_stays_and_is_killed),
        cmocka_unit_test(test_limit_without_controller),
    };
    return cmocka_run_group_tests_name("cgroup", tests, nullptr, nullptr);
}
